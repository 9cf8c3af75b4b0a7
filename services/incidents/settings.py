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
