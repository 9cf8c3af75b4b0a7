"""Traceability tables: read models of KYC actors."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlmodel import Field

from libs.common.db import UtcDateTime
from services.traceability.tables.base import TraceabilityTable


class KnownActorRow(TraceabilityTable, table=True):
    """Local read model of KYC's actors, fed by kyc.events; `version` is the KYC aggregate version it reflects, so
    an older event changes nothing, and a rebuild from the topic ends in the same rows (`updated_at` aside)."""

    __tablename__ = "known_actor"
    __table_args__ = (sa.Index("ix_known_actor_org_id", "org_id"),)

    actor_id: UUID = Field(primary_key=True)
    org_id: str = Field(max_length=100)
    legal_name: str = Field(max_length=300)
    actor_type: str = Field(max_length=50)
    country: str = Field(max_length=2)
    region: str | None = Field(default=None, max_length=10)
    kyc_status: str = Field(max_length=30)
    risk_level: str | None = Field(default=None, max_length=30)
    version: int
    updated_at: datetime = Field(sa_column=sa.Column(UtcDateTime, nullable=False))  # when our copy last changed
