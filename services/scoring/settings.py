"""ScoringSettings: typed, read from the environment, built in main.py and in tests."""

from __future__ import annotations

from pydantic import Field, SecretStr

from libs.common.settings import ServiceSettings, sqlite_url


class ScoringSettings(ServiceSettings):
    service_name: str = "scoring"
    database_url: SecretStr = Field(
        default_factory=lambda: SecretStr(sqlite_url("scoring")), alias="SCORING_DATABASE_URL"
    )
    api_port: int = Field(8004, alias="SCORING_PORT")
    worker_port: int = Field(9104, alias="SCORING_WORKER_PORT")
    # How often the worker looks for a requested full recompute of risk scores.
    scoring_risk_recompute_seconds: float = Field(30.0, gt=0, alias="SCORING_RISK_RECOMPUTE_SECONDS")
