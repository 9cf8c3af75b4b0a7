"""KYC tables: sites — mine sites, their inspections and status decisions, the country/region risk table."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlmodel import Field

from libs.common.db import UtcDateTime
from libs.common.tables import BigId
from services.kyc import lengths
from services.kyc.tables.base import KycTable


class MineSiteRow(KycTable, table=True):
    """A mine site; `turns_blue_date`/`turns_red_date` are the lapses ahead of the recorded status."""

    __tablename__ = "mine_site"
    __table_args__ = (
        sa.Index("ix_mine_site_org_id_name", "org_id", "name"),
        sa.Index("ix_mine_site_turns_blue_date", "turns_blue_date"),
        sa.Index("ix_mine_site_turns_red_date", "turns_red_date"),
    )

    id: UUID = Field(sa_column=sa.Column(sa.Uuid(), primary_key=True))
    org_id: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    name: str = Field(sa_column=sa.Column(sa.String(lengths.NAME), nullable=False))
    operator_actor_id: UUID | None = Field(default=None, sa_column=sa.Column(sa.Uuid(), nullable=True))
    location: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON(), nullable=False))
    country: str = Field(sa_column=sa.Column(sa.String(lengths.COUNTRY), nullable=False))
    region: str | None = Field(default=None, sa_column=sa.Column(sa.String(lengths.REGION), nullable=True))
    minerals: list[str] = Field(sa_column=sa.Column(sa.JSON(), nullable=False))
    capacity_kg_per_month: float | None = Field(default=None, sa_column=sa.Column(sa.Float(), nullable=True))
    status: str = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    status_since_date: date = Field(sa_column=sa.Column(sa.Date(), nullable=False))
    registered_date: date = Field(sa_column=sa.Column(sa.Date(), nullable=False))
    last_inspection_date: date | None = Field(default=None, sa_column=sa.Column(sa.Date(), nullable=True))
    turns_blue_date: date | None = Field(default=None, sa_column=sa.Column(sa.Date(), nullable=True))
    turns_red_date: date | None = Field(default=None, sa_column=sa.Column(sa.Date(), nullable=True))
    area_risk: str | None = Field(default=None, sa_column=sa.Column(sa.String(20), nullable=True))
    risk_table_version: int | None = Field(default=None, sa_column=sa.Column(sa.Integer(), nullable=True))
    location_check: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON(), nullable=True))
    created_by: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False))
    version: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))
    # The last event's number (its aggregate_version); apart from `version`, which one save bumps once even when it
    # makes several status changes, and which an inspection or a document without a status change leaves alone.
    event_seq: int = Field(default=0, sa_column=sa.Column(sa.Integer(), nullable=False))


class SiteInspectionRow(KycTable, table=True):
    __tablename__ = "site_inspection"
    __table_args__ = (sa.Index("ix_site_inspection_site_id", "site_id", "inspection_date"),)

    id: UUID = Field(sa_column=sa.Column(sa.Uuid(), primary_key=True))
    org_id: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    site_id: UUID = Field(sa_column=sa.Column(sa.Uuid(), sa.ForeignKey("mine_site.id"), nullable=False))
    inspection_date: date = Field(sa_column=sa.Column(sa.Date(), nullable=False))
    inspector: str = Field(sa_column=sa.Column(sa.String(lengths.INSPECTOR), nullable=False))
    agency: str = Field(sa_column=sa.Column(sa.String(lengths.INSPECTOR), nullable=False))
    result: str = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    notes: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    report_document_id: UUID | None = Field(default=None, sa_column=sa.Column(sa.Uuid(), nullable=True))
    recorded_by: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    recorded_at: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False))


class SiteStatusChangeRow(KycTable, table=True):
    """One status decision (registration, inspection or lapse), in the order it was made."""

    __tablename__ = "site_status_change"
    __table_args__ = (sa.Index("ix_site_status_change_site_id", "site_id", "id"),)

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))
    org_id: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    site_id: UUID = Field(sa_column=sa.Column(sa.Uuid(), sa.ForeignKey("mine_site.id"), nullable=False))
    previous_status: str | None = Field(default=None, sa_column=sa.Column(sa.String(10), nullable=True))
    status: str = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    reason: str = Field(sa_column=sa.Column(sa.String(30), nullable=False))
    effective_date: date = Field(sa_column=sa.Column(sa.Date(), nullable=False))
    inspection_id: UUID | None = Field(
        default=None, sa_column=sa.Column(sa.Uuid(), sa.ForeignKey("site_inspection.id"), nullable=True)
    )
    area_risk: str | None = Field(default=None, sa_column=sa.Column(sa.String(20), nullable=True))
    risk_table_version: int | None = Field(default=None, sa_column=sa.Column(sa.Integer(), nullable=True))
    changed_by: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    recorded_at: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False))


class RiskTableRow(KycTable, table=True):
    """One version of an organisation's risk table; the highest version is in force."""

    __tablename__ = "risk_table"

    org_id: str = Field(sa_column=sa.Column(sa.String(100), primary_key=True))
    version: int = Field(sa_column=sa.Column(sa.Integer(), primary_key=True, autoincrement=False))
    area_count: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))
    created_by: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False))


class RiskAreaRow(KycTable, table=True):
    __tablename__ = "risk_area"
    __table_args__ = (sa.ForeignKeyConstraint(["org_id", "version"], ["risk_table.org_id", "risk_table.version"]),)

    org_id: str = Field(sa_column=sa.Column(sa.String(100), primary_key=True))
    version: int = Field(sa_column=sa.Column(sa.Integer(), primary_key=True, autoincrement=False))
    area: str = Field(sa_column=sa.Column(sa.String(lengths.REGION), primary_key=True))
    level: str = Field(sa_column=sa.Column(sa.String(30), nullable=False))
    reason: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    source: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
