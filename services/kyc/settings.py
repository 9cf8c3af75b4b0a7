"""KycSettings: typed, read from the environment, built in main.py and in tests."""
from __future__ import annotations

from pydantic import Field

from libs.common.settings import ServiceSettings, sqlite_url


class KycSettings(ServiceSettings):
    service_name: str = "kyc"
    database_url: str = Field(default_factory=lambda: sqlite_url("kyc"), alias="KYC_DATABASE_URL")
