"""SQLModel tables of the KYC service; their base has its own MetaData, so migrations see only ours."""

from __future__ import annotations

from services.kyc.tables import register, screening, sites  # noqa: F401  (registers the tables on KycTable)
from services.kyc.tables.base import KycTable

__all__ = ["KycTable"]
