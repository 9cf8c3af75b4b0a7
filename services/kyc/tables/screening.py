"""KYC tables: screening — watchlists, their snapshots and current entries, screening requests and hits."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlmodel import Field

from libs.common.db import UtcDateTime
from services.kyc import lengths
from services.kyc.tables.base import KycTable


def _col(type_: Any, *constraints: Any, nullable: bool = False) -> Any:
    return sa.Column(type_, *constraints, nullable=nullable)


class WatchlistRow(KycTable, table=True):
    """One organisation's list (UN, OFAC, OpenSanctions export, own list); `version` is the snapshot in force."""

    __tablename__ = "watchlist"
    __table_args__ = (sa.Index("uq_watchlist_org_name", "org_id", "name", unique=True),)

    id: UUID = Field(sa_column=sa.Column(sa.Uuid(), primary_key=True))
    org_id: str = Field(sa_column=_col(sa.String(100)))
    name: str = Field(sa_column=_col(sa.String(lengths.WATCHLIST_NAME)))
    format: str = Field(sa_column=_col(sa.String(20)))
    source: str | None = Field(default=None, sa_column=_col(sa.String(lengths.WATCHLIST_SOURCE), nullable=True))
    version: int = Field(default=0, sa_column=_col(sa.Integer()))
    created_by: str = Field(sa_column=_col(sa.String(100)))
    created_at: datetime = Field(sa_column=_col(UtcDateTime()))


class WatchlistSnapshotRow(KycTable, table=True):
    """One imported file: a new version only when at least one entry was added, changed or removed."""

    __tablename__ = "watchlist_snapshot"
    __table_args__ = (
        sa.Index("uq_watchlist_snapshot_version", "watchlist_id", "version", unique=True),
        sa.Index("ix_watchlist_snapshot_sha256", "watchlist_id", "sha256"),
    )

    id: UUID = Field(sa_column=sa.Column(sa.Uuid(), primary_key=True))
    org_id: str = Field(sa_column=_col(sa.String(100)))
    watchlist_id: UUID = Field(sa_column=_col(sa.Uuid(), sa.ForeignKey("watchlist.id")))
    version: int = Field(sa_column=_col(sa.Integer()))
    sha256: str = Field(sa_column=_col(sa.String(64)))
    object_key: str = Field(sa_column=_col(sa.String(200)))
    entry_count: int = Field(sa_column=_col(sa.Integer()))
    added_count: int = Field(sa_column=_col(sa.Integer()))
    changed_count: int = Field(sa_column=_col(sa.Integer()))
    removed_count: int = Field(sa_column=_col(sa.Integer()))
    imported_by: str = Field(sa_column=_col(sa.String(100)))
    imported_at: datetime = Field(sa_column=_col(UtcDateTime()))


class WatchlistEntryRow(KycTable, table=True):
    """The current state of one listed party; `changed_version` is the snapshot that last added, changed or
    removed it, so a worker's in-memory index catches up by reading only rows newer than what it holds."""

    __tablename__ = "watchlist_entry"
    __table_args__ = (sa.Index("ix_watchlist_entry_changed", "watchlist_id", "changed_version"),)

    watchlist_id: UUID = Field(sa_column=sa.Column(sa.Uuid(), sa.ForeignKey("watchlist.id"), primary_key=True))
    entry_id: str = Field(sa_column=sa.Column(sa.String(200), primary_key=True))
    org_id: str = Field(sa_column=_col(sa.String(100)))
    fingerprint: str = Field(sa_column=_col(sa.String(64)))
    data: dict[str, Any] = Field(sa_column=_col(sa.JSON()))
    first_seen_version: int = Field(sa_column=_col(sa.Integer()))
    changed_version: int = Field(sa_column=_col(sa.Integer()))
    removed: bool = Field(default=False, sa_column=_col(sa.Boolean()))


class ScreeningRequestRow(KycTable, table=True):
    """Work for the screening job: one subject (actor or person) to screen against every current entry, or one
    new snapshot (subject_type "snapshot") whose changed entries every subject of the organisation meets."""

    __tablename__ = "screening_request"
    __table_args__ = (
        sa.Index(
            "ix_screening_request_pending",
            "requested_at",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        ),
        sa.Index("ix_screening_request_actor", "actor_id", "status"),
        sa.Index("ix_screening_request_org", "org_id", "subject_type", "status"),
    )

    id: UUID = Field(sa_column=sa.Column(sa.Uuid(), primary_key=True))
    org_id: str = Field(sa_column=_col(sa.String(100)))
    actor_id: UUID | None = Field(default=None, sa_column=_col(sa.Uuid(), nullable=True))
    subject_type: str = Field(sa_column=_col(sa.String(10)))
    subject_id: UUID = Field(sa_column=_col(sa.Uuid()))
    status: str = Field(default="pending", sa_column=_col(sa.String(10)))
    requested_at: datetime = Field(sa_column=_col(UtcDateTime()))
    completed_at: datetime | None = Field(default=None, sa_column=_col(UtcDateTime(), nullable=True))
    hit_count: int | None = Field(default=None, sa_column=_col(sa.Integer(), nullable=True))


class ScreeningHitRow(KycTable, table=True):
    """A possible match between a subject and a list entry, waiting for (or carrying) an analyst's decision."""

    __tablename__ = "screening_hit"
    __table_args__ = (
        sa.Index("ix_screening_hit_queue", "org_id", "status", "created_at"),
        sa.Index("ix_screening_hit_actor", "actor_id", "status"),
        sa.Index("ix_screening_hit_pair", "subject_id", "watchlist_id", "entry_id"),
        sa.Index(
            "uq_screening_hit_open",
            "subject_id",
            "watchlist_id",
            "entry_id",
            unique=True,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        ),
    )

    id: UUID = Field(sa_column=sa.Column(sa.Uuid(), primary_key=True))
    org_id: str = Field(sa_column=_col(sa.String(100)))
    actor_id: UUID = Field(sa_column=_col(sa.Uuid()))
    subject_type: str = Field(sa_column=_col(sa.String(10)))
    subject_id: UUID = Field(sa_column=_col(sa.Uuid()))
    subject_name: str = Field(sa_column=_col(sa.String(300)))
    watchlist_id: UUID = Field(sa_column=_col(sa.Uuid(), sa.ForeignKey("watchlist.id")))
    entry_id: str = Field(sa_column=_col(sa.String(200)))
    entry_fingerprint: str = Field(sa_column=_col(sa.String(64)))
    subject_fingerprint: str = Field(sa_column=_col(sa.String(64)))
    score: float = Field(sa_column=_col(sa.Float()))
    matched_name: str = Field(sa_column=_col(sa.String(500)))
    explanation: list[str] = Field(default_factory=list, sa_column=_col(sa.JSON()))
    entry_removed: bool = Field(default=False, sa_column=_col(sa.Boolean()))
    status: str = Field(default="pending", sa_column=_col(sa.String(10)))
    created_at: datetime = Field(sa_column=_col(UtcDateTime()))
    # What was screened and the list version of the entry, so a later hit of the pair can say what changed.
    subject_fields: dict[str, Any] | None = Field(default=None, sa_column=_col(sa.JSON(), nullable=True))
    entry_version: int | None = Field(default=None, sa_column=_col(sa.Integer(), nullable=True))
    reraised_because: dict[str, Any] | None = Field(default=None, sa_column=_col(sa.JSON(), nullable=True))
    decided_by: str | None = Field(default=None, sa_column=_col(sa.String(100), nullable=True))
    decided_at: datetime | None = Field(default=None, sa_column=_col(UtcDateTime(), nullable=True))
    reason: str | None = Field(default=None, sa_column=_col(sa.Text(), nullable=True))
