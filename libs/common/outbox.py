"""Transactional outbox: events are rows committed with the state change; the relay publishes them in order per key."""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast
from uuid import UUID

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaTimeoutError
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from libs.common import metrics, telemetry
from libs.common.db import dialect_of, upsert, utcnow
from libs.common.events.base import Envelope, Event, new_event_id
from libs.common.tables import OUTBOX_BUCKETS, OutboxEpochRow, OutboxLeaseRow, OutboxMessageRow

log = logging.getLogger("assay.outbox")
Outbox = OutboxMessageRow.__table__
Lease = OutboxLeaseRow.__table__
Epochs = OutboxEpochRow.__table__
BUCKETS_PER_CLAIM = OUTBOX_BUCKETS  # a lone relay takes every bucket; a second one gets what is unlocked


def bucket_of(key: str) -> int:
    return zlib.crc32(key.encode()) % OUTBOX_BUCKETS


def add(db: AsyncSession, event: Event, *, key: UUID | str, traceparent: str | None = None) -> OutboxMessageRow:
    """Stage `event` in the caller's transaction; it is published only if that transaction commits. With tracing
    on, the row keeps the current span's traceparent, which the CloudEvent carries to every consumer."""
    row = OutboxMessageRow(**message_values(event, key=key, traceparent=traceparent))
    db.add(row)
    wake_on_commit(db)
    return row


def message_values(event: Event, *, key: UUID | str, traceparent: str | None = None) -> dict[str, Any]:
    """The columns of `event`'s outbox row (all but its id), for a caller that writes the row in a statement of its
    own, in its transaction (then `wake_on_commit`), instead of staging it with `add`."""
    key = str(key)
    return {
        "event_id": new_event_id(),
        "topic": event.topic,
        "key": key,
        "event_type": event.event_type(),
        "payload": event.model_dump_json(),
        "bucket": bucket_of(key),
        "occurred_at": utcnow(),
        "published_at": None,
        "traceparent": traceparent or telemetry.current_traceparent(),
    }


def wake_on_commit(db: AsyncSession) -> None:
    """Outbox rows were written in this session's transaction: its commit wakes the relays (the hint below)."""
    db.info[_WAKE] = True


# A wake-up hint for idle relays: PostgreSQL NOTIFY, sent inside the writer's transaction so it is delivered only
# if the transaction commits. NOTIFY serialises committing transactions on a global lock, so each process sends at
# most one per WAKE_EVERY_SECONDS; a relay that was woken keeps polling fast for longer than that, and its idle
# poll catches anything else (the hint is an optimisation, never the only path).
WAKE_CHANNEL = "assay_outbox"
WAKE_EVERY_SECONDS = 0.05
_WAKE = "assay_outbox_wake"
_last_wake = 0.0


@sa.event.listens_for(Session, "before_commit")
def _notify_relay(session: Session) -> None:
    if not session.info.pop(_WAKE, False):
        return
    if _wake_due(session.get_bind().dialect.name):
        session.execute(sa.text(f"NOTIFY {WAKE_CHANNEL}"))


async def wake(db: AsyncConnection) -> None:
    """Outbox rows were written by a statement that committed on its own (libs.common.db.DbStatement): the hint
    now, on the same terms."""
    if _wake_due(db.dialect.name):
        await db.execute(sa.text(f"NOTIFY {WAKE_CHANNEL}"))


def _wake_due(dialect: str) -> bool:
    global _last_wake
    now = time.monotonic()
    if now - _last_wake < WAKE_EVERY_SECONDS or dialect != "postgresql":
        return False
    _last_wake = now
    return True


async def _claim_buckets(db: AsyncSession) -> list[int]:
    if dialect_of(db) == "sqlite":
        # BEGIN IMMEDIATE already serialises every writer on SQLite, relays included.
        return list(range(OUTBOX_BUCKETS))
    query = (
        sa.select(Lease.c.bucket).order_by(sa.func.random()).limit(BUCKETS_PER_CLAIM).with_for_update(skip_locked=True)
    )
    return list((await db.execute(query)).scalars())


async def relay_batch(
    sessions: async_sessionmaker[AsyncSession],
    producer: AIOKafkaProducer,
    *,
    limit: int = 1000,
    ack_timeout: float = 5.0,
    after_send: Callable[[], None] | None = None,
    acked: Callable[[list[Any]], None] | None = None,
) -> int:
    """Publish up to `limit` pending events with acks=all, then mark them published; returns how many.

    The bucket locks are held until the marks commit, so no other relay sends a later event of the same key
    first. A crash after sending and before committing resends the batch; consumers dedupe on the event id."""
    async with sessions() as db, db.begin():
        buckets = await _claim_buckets(db)
        if not buckets:
            return 0
        rows = (
            await db.execute(
                sa.select(
                    Outbox.c.id,
                    Outbox.c.event_id,
                    Outbox.c.topic,
                    Outbox.c.key,
                    Outbox.c.event_type,
                    Outbox.c.payload,
                    Outbox.c.occurred_at,
                    Outbox.c.traceparent,
                )
                .where(Outbox.c.published_at.is_(None), Outbox.c.bucket.in_(buckets))
                .order_by(Outbox.c.id)
                .limit(limit)
            )
        ).all()
        if not rows:
            return 0
        futures = [await _send(producer, row) for row in rows]
        try:
            metadata = await asyncio.wait_for(asyncio.gather(*futures), timeout=ack_timeout)
        except TimeoutError as exc:
            raise KafkaTimeoutError(f"no acks within {ack_timeout}s: the broker is unreachable") from exc
        if acked is not None:
            acked(metadata)
        if after_send is not None:  # fault injection for tests: a crash between publishing and marking
            after_send()
        await db.execute(sa.update(Outbox).where(Outbox.c.id.in_([r.id for r in rows])).values(published_at=utcnow()))
    metrics.EVENTS_PUBLISHED.inc(len(rows))
    return len(rows)


async def _send(producer: AIOKafkaProducer, row: sa.Row[*tuple[Any, ...]]) -> asyncio.Future[Any]:
    envelope = Envelope(
        event_id=row.event_id,
        event_type=row.event_type,
        source="/assay/" + row.topic.split(".")[0],
        key=row.key,
        time=row.occurred_at,
        payload=row.payload.encode(),
        traceparent=row.traceparent,
    )
    message = envelope.to_kafka()
    with telemetry.publishing(row.topic, row.event_id, row.event_type, row.traceparent):
        sent: asyncio.Future[Any] = await producer.send(
            row.topic, value=message.value, key=row.key.encode(), headers=[(k, v) for k, v in message.headers.items()]
        )
    return sent


async def stored_epoch(sessions: async_sessionmaker[AsyncSession], topic: str) -> str | None:
    async with sessions() as db:
        return (await db.execute(sa.select(Epochs.c.epoch).where(Epochs.c.topic == topic))).scalar_one_or_none()


async def requeue_for_epoch(sessions: async_sessionmaker[AsyncSession], topic: str, *, epoch: str) -> int:
    """The broker is a new incarnation (`epoch`) that may not hold what we published: mark every retained event of
    `topic` unpublished again, so it is sent anew in order, and remember the epoch.

    Every bucket lease is locked first (waiting, not skipping): a relay that is between sending a batch to the old
    broker and marking it published finishes before we look, so its batch is requeued too."""
    async with sessions() as db, db.begin():
        if dialect_of(db) != "sqlite":  # SQLite's BEGIN IMMEDIATE already serialises every writer
            await db.execute(sa.select(Lease.c.bucket).with_for_update())
        result = await db.execute(
            sa.update(Outbox)
            .where(Outbox.c.topic == topic, Outbox.c.published_at.is_not(None))
            .values(published_at=None)
        )
        await upsert(db, Epochs, {"topic": topic, "epoch": epoch, "changed_at": utcnow()}, keys=["topic"])
    return cast(CursorResult[Any], result).rowcount or 0  # DML gives a CursorResult; the stubs say Result


async def pending_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as db:
        return (
            await db.execute(sa.select(sa.func.count()).select_from(Outbox).where(Outbox.c.published_at.is_(None)))
        ).scalar_one()


async def purge_published(db: AsyncSession, *, retention: timedelta) -> int:
    """Published rows are kept for `retention` so a wiped broker can be refilled; older ones go."""
    result = await db.execute(sa.delete(Outbox).where(Outbox.c.published_at < utcnow() - retention))
    return cast(CursorResult[Any], result).rowcount or 0  # DML gives a CursorResult; the stubs say Result
