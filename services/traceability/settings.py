"""TraceabilitySettings: typed, read from the environment, built in main.py and in tests."""

from __future__ import annotations

from pydantic import Field, SecretStr

from libs.common.settings import ServiceSettings, sqlite_url


class TraceabilitySettings(ServiceSettings):
    service_name: str = "traceability"
    database_url: SecretStr = Field(
        default_factory=lambda: SecretStr(sqlite_url("traceability")), alias="TRACEABILITY_DATABASE_URL"
    )
    api_port: int = Field(8003, alias="TRACEABILITY_PORT")
    worker_port: int = Field(9103, alias="TRACEABILITY_WORKER_PORT")
