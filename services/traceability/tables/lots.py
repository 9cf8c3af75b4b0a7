"""Traceability tables: lots, their direct inputs (the lineage edges), tags, anomalies and batch idempotency keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlmodel import Field

from libs.common.db import UtcDateTime
from services.traceability.tables.base import TraceabilityTable


class LotRow(TraceabilityTable, table=True):
    """A lot as the custody register holds it now; its history is the custody log, this is the state after it."""

    __tablename__ = "lot"
    __table_args__ = (
        sa.Index("ix_lot_org_id_custodian", "org_id", "custodian_actor_id"),
        sa.Index("ix_lot_site_id_produced_at", "site_id", "produced_at"),
    )

    lot_id: UUID = Field(sa_column=sa.Column(sa.Uuid(), primary_key=True))
    org_id: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    tag: str | None = Field(default=None, sa_column=sa.Column(sa.String(100), nullable=True))
    mineral: str = Field(sa_column=sa.Column(sa.String(50), nullable=False))
    hs_code: str | None = Field(default=None, sa_column=sa.Column(sa.String(12), nullable=True))
    form: str = Field(sa_column=sa.Column(sa.String(30), nullable=False))
    mass: float = Field(sa_column=sa.Column(sa.Float(), nullable=False))
    unit: str = Field(sa_column=sa.Column(sa.String(3), nullable=False))
    mass_kg: float = Field(sa_column=sa.Column(sa.Float(), nullable=False))
    grade_pct: float | None = Field(default=None, sa_column=sa.Column(sa.Float(), nullable=True))
    site_id: UUID | None = Field(default=None, sa_column=sa.Column(sa.Uuid(), nullable=True))  # mine lots only
    origin_site_ids: list[str] = Field(sa_column=sa.Column(sa.JSON(), nullable=False))
    producer_actor_id: UUID | None = Field(default=None, sa_column=sa.Column(sa.Uuid(), nullable=True))
    custodian_actor_id: UUID | None = Field(default=None, sa_column=sa.Column(sa.Uuid(), nullable=True))
    pending_to_actor_id: UUID | None = Field(default=None, sa_column=sa.Column(sa.Uuid(), nullable=True))
    pending_event_id: UUID | None = Field(default=None, sa_column=sa.Column(sa.Uuid(), nullable=True))
    pending_mass_kg: float | None = Field(default=None, sa_column=sa.Column(sa.Float(), nullable=True))
    status: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))  # active | in_transit | consumed
    # Why it may not move (site_red:<id>, incident:<id>), sorted; empty when it may. Shown as status `blocked`.
    blocked_reasons: list[str] = Field(
        default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False, default=list)
    )
    country: str | None = Field(default=None, sa_column=sa.Column(sa.String(2), nullable=True))  # where it is now
    place: str | None = Field(default=None, sa_column=sa.Column(sa.String(200), nullable=True))
    produced_at: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False))
    version: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))


class LotInputRow(TraceabilityTable, table=True):
    """A lineage edge: `lot_id` was made (in part) from `input_lot_id`. Indexed both ways: up and down lineage."""

    __tablename__ = "lot_input"
    __table_args__ = (sa.Index("ix_lot_input_input_lot_id", "input_lot_id", "lot_id"),)

    lot_id: UUID = Field(sa_column=sa.Column(sa.Uuid(), primary_key=True))
    input_lot_id: UUID = Field(sa_column=sa.Column(sa.Uuid(), primary_key=True))


class LotHolderRow(TraceabilityTable, table=True):
    """Every actor that ever held a lot (creation or confirmed transfer): who may present it, who may see it."""

    __tablename__ = "lot_holder"
    __table_args__ = (sa.Index("ix_lot_holder_actor_id", "actor_id"),)

    lot_id: UUID = Field(sa_column=sa.Column(sa.Uuid(), primary_key=True))
    actor_id: UUID = Field(sa_column=sa.Column(sa.Uuid(), primary_key=True))


class TagRow(TraceabilityTable, table=True):
    """An issued tag: allocated (in a block) to a site or an actor; `lot_id` once it is used, which happens once."""

    __tablename__ = "tag"

    tag: str = Field(sa_column=sa.Column(sa.String(100), primary_key=True))
    org_id: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    block_id: UUID = Field(sa_column=sa.Column(sa.Uuid(), nullable=False))
    site_id: UUID | None = Field(default=None, sa_column=sa.Column(sa.Uuid(), nullable=True))
    actor_id: UUID | None = Field(default=None, sa_column=sa.Column(sa.Uuid(), nullable=True))
    lot_id: UUID | None = Field(default=None, sa_column=sa.Column(sa.Uuid(), nullable=True))
    allocated_at: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False))


class AnomalyRow(TraceabilityTable, table=True):
    """A custody anomaly, once per cause (`anomaly_id` is derived from it): published as CustodyAnomalyDetected."""

    __tablename__ = "custody_anomaly"
    __table_args__ = (sa.Index("ix_custody_anomaly_org_id", "org_id", "detected_at"),)

    anomaly_id: UUID = Field(sa_column=sa.Column(sa.Uuid(), primary_key=True))
    org_id: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    detail: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    lot_ids: list[str] = Field(sa_column=sa.Column(sa.JSON(), nullable=False))
    actor_ids: list[str] = Field(sa_column=sa.Column(sa.JSON(), nullable=False))
    site_ids: list[str] = Field(sa_column=sa.Column(sa.JSON(), nullable=False))
    detected_at: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False))


class CustodyRequestRow(TraceabilityTable, table=True):
    """A batch item already applied, by the client's idempotency key: a device syncing twice gets the same answer."""

    __tablename__ = "custody_request"

    org_id: str = Field(sa_column=sa.Column(sa.String(100), primary_key=True))
    idempotency_key: str = Field(sa_column=sa.Column(sa.String(200), primary_key=True))
    result: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON(), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False))
