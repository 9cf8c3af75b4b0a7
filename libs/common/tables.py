"""Platform tables every service database has: outbox, inbox, relay leases, scheduled job leases."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from libs.common.db import UtcDateTime

OUTBOX_BUCKETS = 16
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class PlatformTable(SQLModel):
    """Base with its own MetaData so each service's migrations see exactly the platform tables plus its own."""

    metadata = sa.MetaData()


class OutboxMessageRow(PlatformTable, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (
        sa.Index("ix_outbox_message_pending", "id", "bucket",
                 postgresql_where=sa.text("published_at IS NULL"), sqlite_where=sa.text("published_at IS NULL")),
        sa.Index("ix_outbox_message_published_at", "published_at"),
    )

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))
    event_id: str = Field(sa_column=sa.Column(sa.String(36), nullable=False, unique=True))
    topic: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    key: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    event_type: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    payload: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    bucket: int = Field(sa_column=sa.Column(sa.SmallInteger, nullable=False))
    occurred_at: datetime = Field(sa_column=sa.Column(UtcDateTime, nullable=False))
    published_at: datetime | None = Field(default=None, sa_column=sa.Column(UtcDateTime, nullable=True))


class OutboxLeaseRow(PlatformTable, table=True):
    """One row per bucket: a relay holds a bucket's row lock while it publishes, so order per key holds."""

    __tablename__ = "outbox_lease"
    bucket: int = Field(sa_column=sa.Column(sa.SmallInteger, primary_key=True, autoincrement=False))


class OutboxMarkerRow(PlatformTable, table=True):
    """Where the newest published event of a topic sits in the broker's log; if the broker no longer holds that
    event at that offset, it lost its log (the embedded memory broker after a restart) and must be refilled."""

    __tablename__ = "outbox_marker"
    topic: str = Field(sa_column=sa.Column(sa.String(200), primary_key=True))
    partition: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    offset: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    event_id: str = Field(sa_column=sa.Column(sa.String(36), nullable=False))


class ProcessedEventRow(PlatformTable, table=True):
    __tablename__ = "processed_event"
    __table_args__ = (sa.Index("ix_processed_event_processed_at", "processed_at"),)

    consumer: str = Field(sa_column=sa.Column(sa.String(100), primary_key=True))
    event_id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    event_type: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    processed_at: datetime = Field(sa_column=sa.Column(UtcDateTime, nullable=False))


class ScheduledJobRow(PlatformTable, table=True):
    """A job's row is locked while it runs, so two workers never run the same job at once."""

    __tablename__ = "scheduled_job"
    name: str = Field(sa_column=sa.Column(sa.String(100), primary_key=True))
    last_started_at: datetime | None = Field(default=None, sa_column=sa.Column(UtcDateTime, nullable=True))
    last_finished_at: datetime | None = Field(default=None, sa_column=sa.Column(UtcDateTime, nullable=True))
