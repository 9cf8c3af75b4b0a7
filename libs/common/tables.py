"""Platform tables every service database has: outbox, inbox, relay leases and epochs, dead letters, job leases."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from libs.common.db import UtcDateTime

OUTBOX_BUCKETS = 16
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class PlatformTable(SQLModel):
    """Base with its own MetaData so each service's migrations see exactly the platform tables plus its own."""

    metadata = sa.MetaData()
    if TYPE_CHECKING:  # SQLModel sets it on every table class but does not declare it
        __table__: ClassVar[sa.Table]


class OutboxMessageRow(PlatformTable, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (
        sa.Index(
            "ix_outbox_message_pending",
            "id",
            "bucket",
            postgresql_where=sa.text("published_at IS NULL"),
            sqlite_where=sa.text("published_at IS NULL"),
        ),
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
    # W3C trace context of the request that wrote the event, carried into the CloudEvent's `traceparent`.
    traceparent: str | None = Field(default=None, sa_column=sa.Column(sa.String(55), nullable=True))


class OutboxLeaseRow(PlatformTable, table=True):
    """One row per bucket: a relay holds a bucket's row lock while it publishes, so order per key holds."""

    __tablename__ = "outbox_lease"
    bucket: int = Field(sa_column=sa.Column(sa.SmallInteger, primary_key=True, autoincrement=False))


class OutboxEpochRow(PlatformTable, table=True):
    """The broker incarnation ("epoch") under which a topic's retained events were last all handed to the broker.

    Only used where the broker may forget its log (the embedded memory broker): when the broker's epoch differs
    from the one stored here, every retained event of the topic is sent again."""

    __tablename__ = "outbox_epoch"
    topic: str = Field(sa_column=sa.Column(sa.String(200), primary_key=True))
    epoch: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    changed_at: datetime = Field(sa_column=sa.Column(UtcDateTime, nullable=False))


class DeadLetterRow(PlatformTable, table=True):
    """A delivered event whose handler failed deterministically (invalid payload, a bug), kept for a replay.

    `event_id` is the CloudEvent id, or `<topic>:<partition>:<offset>` for a record that is not a CloudEvent."""

    __tablename__ = "dead_letter"
    __table_args__ = (
        sa.UniqueConstraint("consumer", "event_id", name="uq_dead_letter_consumer_event"),
        sa.Index(
            "ix_dead_letter_pending",
            "consumer",
            "id",
            postgresql_where=sa.text("replayed_at IS NULL"),
            sqlite_where=sa.text("replayed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))
    consumer: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    event_id: str = Field(sa_column=sa.Column(sa.String(300), nullable=False))
    event_type: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    topic: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    partition: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    offset: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    key: str | None = Field(default=None, sa_column=sa.Column(sa.String(200), nullable=True))
    headers: str = Field(sa_column=sa.Column(sa.Text, nullable=False))  # JSON list of [name, base64 value]
    value: str = Field(sa_column=sa.Column(sa.Text, nullable=False))  # base64 of the record's value
    error: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    attempts: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    failed_at: datetime = Field(sa_column=sa.Column(UtcDateTime, nullable=False))
    replayed_at: datetime | None = Field(default=None, sa_column=sa.Column(UtcDateTime, nullable=True))


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
