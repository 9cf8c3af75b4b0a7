"""IncidentsSettings: typed, read from the environment, built in main.py and in tests."""

from __future__ import annotations

from pydantic import Field, SecretStr

from libs.common.settings import ServiceSettings, sqlite_url


class IncidentsSettings(ServiceSettings):
    service_name: str = "incidents"
    database_url: SecretStr = Field(
        default_factory=lambda: SecretStr(sqlite_url("incidents")), alias="INCIDENTS_DATABASE_URL"
    )
    api_port: int = Field(8002, alias="INCIDENTS_PORT")
    worker_port: int = Field(9102, alias="INCIDENTS_WORKER_PORT")
    # Days from report to the verification deadline, by level (1 is the most severe).
    incidents_verification_days_level1: int = Field(3, alias="INCIDENTS_VERIFICATION_DAYS_LEVEL1", ge=1)
    incidents_verification_days_level2: int = Field(14, alias="INCIDENTS_VERIFICATION_DAYS_LEVEL2", ge=1)
    incidents_verification_days_level3: int = Field(30, alias="INCIDENTS_VERIFICATION_DAYS_LEVEL3", ge=1)
    incidents_max_open_days: int = Field(183, alias="INCIDENTS_MAX_OPEN_DAYS", ge=1)  # about six months
    incidents_public_rate_per_minute: int = Field(10, alias="INCIDENTS_PUBLIC_RATE_PER_MINUTE", ge=1)
    incidents_overdue_check_minutes: int = Field(15, alias="INCIDENTS_OVERDUE_CHECK_MINUTES", ge=1)

    def verification_days(self) -> dict[int, int]:
        return {
            1: self.incidents_verification_days_level1,
            2: self.incidents_verification_days_level2,
            3: self.incidents_verification_days_level3,
        }

    incidents_attachment_max_bytes: int = Field(20 * 1024 * 1024, alias="INCIDENTS_ATTACHMENT_MAX_BYTES", ge=1)

    # Partner webhooks (services/incidents/webhooks).
    webhooks_allow_http: bool = Field(False, alias="INCIDENTS_WEBHOOKS_ALLOW_HTTP")  # dev only: http:// URLs
    # Admin setting: deliver to loopback/private/link-local addresses (dev and tests only).
    webhooks_allow_private: bool = Field(False, alias="INCIDENTS_WEBHOOKS_ALLOW_PRIVATE")
    # Seconds to wait after each failed attempt; ~3.2 days in all, then the delivery is marked failed.
    webhooks_retry_schedule_seconds: list[float] = Field(
        [5, 30, 300, 1800, 7200, 18000, 36000, 36000, 36000, 36000, 36000, 36000, 36000],
        alias="INCIDENTS_WEBHOOKS_RETRY_SCHEDULE_SECONDS",
    )
    webhooks_timeout_seconds: float = Field(10.0, alias="INCIDENTS_WEBHOOKS_TIMEOUT_SECONDS")
    webhooks_concurrency: int = Field(200, alias="INCIDENTS_WEBHOOKS_CONCURRENCY")
    webhooks_per_subscription: int = Field(8, alias="INCIDENTS_WEBHOOKS_PER_SUBSCRIPTION")  # in flight at once
    webhooks_batch: int = Field(1000, alias="INCIDENTS_WEBHOOKS_BATCH")  # deliveries claimed per pass
    webhooks_lease_seconds: float = Field(60.0, alias="INCIDENTS_WEBHOOKS_LEASE_SECONDS")
    webhooks_disable_after_failures: int = Field(5, alias="INCIDENTS_WEBHOOKS_DISABLE_AFTER")  # failed deliveries
    webhooks_secret_grace_seconds: float = Field(86400.0, alias="INCIDENTS_WEBHOOKS_SECRET_GRACE_SECONDS")
    webhooks_every_seconds: float = Field(0.0, alias="INCIDENTS_WEBHOOKS_EVERY_SECONDS")  # 0: each scheduler tick
