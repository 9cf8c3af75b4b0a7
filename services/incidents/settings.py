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
