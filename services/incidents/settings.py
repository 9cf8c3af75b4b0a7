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
