"""SQLModel tables of the traceability service; their base has its own MetaData, so migrations see only ours."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from libs.common.db import UtcDateTime


class TraceabilityTable(SQLModel):
    metadata = sa.MetaData()


class KnownActorRow(TraceabilityTable, table=True):
    """Local read model of KYC's decisions about an actor, fed by kyc.events; rebuildable from the topic."""

    __tablename__ = "known_actor"
    __table_args__ = (sa.Index("ix_known_actor_org_id", "org_id"),)

    actor_id: UUID = Field(primary_key=True)
    org_id: str = Field(max_length=100)
    legal_name: str = Field(max_length=300)
    actor_type: str = Field(max_length=50)
    kyc_status: str = Field(max_length=30)
    risk_level: str | None = Field(default=None, max_length=30)
    updated_at: datetime = Field(sa_column=sa.Column(UtcDateTime, nullable=False))
