"""Traceability tables: read models of KYC actors."""

from __future__ import annotations

from datetime import datetime
from typing import Any
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


class KnownSiteRow(TraceabilityTable, table=True):
    """Local read model of KYC's mine sites (MineSite* events), at the KYC aggregate version it reflects."""

    __tablename__ = "known_site"
    __table_args__ = (sa.Index("ix_known_site_org_id", "org_id"),)

    site_id: UUID = Field(primary_key=True)
    org_id: str = Field(max_length=100)
    name: str = Field(max_length=300)
    country: str = Field(max_length=2)
    region: str | None = Field(default=None, max_length=100)
    status: str = Field(max_length=10)
    capacity_kg_per_month: float | None = Field(default=None)
    latitude: float | None = Field(default=None)  # the representative point of KYC's location, when the event had one
    longitude: float | None = Field(default=None)
    version: int
    updated_at: datetime = Field(sa_column=sa.Column(UtcDateTime, nullable=False))


class KnownIncidentRow(TraceabilityTable, table=True):
    """Local read model of incidents (incidents.events): what a lot's block depends on."""

    __tablename__ = "known_incident"
    __table_args__ = (sa.Index("ix_known_incident_org_id", "org_id"),)

    incident_id: UUID = Field(primary_key=True)
    org_id: str = Field(max_length=100)
    level: int
    status: str = Field(max_length=20)
    category: str | None = Field(default=None, max_length=100)
    reference: str | None = Field(default=None, max_length=100)
    actor_ids: list[str] = Field(sa_column=sa.Column(sa.JSON(), nullable=False))
    site_ids: list[str] = Field(sa_column=sa.Column(sa.JSON(), nullable=False))
    lot_ids: list[str] = Field(sa_column=sa.Column(sa.JSON(), nullable=False))
    version: int
    updated_at: datetime = Field(sa_column=sa.Column(UtcDateTime, nullable=False))


class KnownScoreRow(TraceabilityTable, table=True):
    """Local read model of scoring's ScoreChanged, per subject (actor | site | lot)."""

    __tablename__ = "known_score"

    subject_id: UUID = Field(primary_key=True)
    subject_type: str = Field(max_length=10)
    org_id: str = Field(max_length=100)
    score: float
    band: str = Field(max_length=20)
    factors: list[dict[str, Any]] | None = Field(default=None, sa_column=sa.Column(sa.JSON(), nullable=True))
    computed_at: datetime | None = Field(default=None, sa_column=sa.Column(UtcDateTime, nullable=True))
    version: int
    updated_at: datetime = Field(sa_column=sa.Column(UtcDateTime, nullable=False))
