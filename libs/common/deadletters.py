"""Dead letters: deliveries whose handler failed deterministically, kept in the consumer's own database (a topic on
the embedded broker would be forgotten on restart), listed, and re-applied in order, once, after a fix."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.db import dialect_of, insert, utcnow
from libs.common.events import Envelope
from libs.common.tables import DeadLetterRow

if TYPE_CHECKING:
    from libs.common.bus import Consumer, Delivery

DeadLetters = DeadLetterRow.__table__


async def record(
    db: AsyncSession, *, consumer: str, delivery: Delivery, envelope: Envelope | None, error: str, attempts: int
) -> None:
    event_id = envelope.event_id if envelope else f"{delivery.topic}:{delivery.partition}:{delivery.offset}"
    values = dict(
        consumer=consumer,
        event_id=event_id,
        event_type=envelope.event_type if envelope else "",
        topic=delivery.topic,
        partition=delivery.partition,
        offset=delivery.offset,
        key=delivery.key.decode(errors="replace") if delivery.key is not None else None,
        headers=json.dumps([[name, base64.b64encode(value or b"").decode()] for name, value in delivery.headers]),
        value=base64.b64encode(delivery.value or b"").decode(),
        error=error[:8000],
        attempts=attempts,
        failed_at=utcnow(),
        replayed_at=None,
    )
    statement = insert(dialect_of(db), DeadLetters).values(**values)
    # The same event failing again (after a replay that failed, or a redelivery) updates its one row.
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=["consumer", "event_id"],
            set_={
                "error": statement.excluded.error,
                "failed_at": statement.excluded.failed_at,
                "attempts": DeadLetters.c.attempts + statement.excluded.attempts,
                "replayed_at": None,
            },
        )
    )


def delivery_of(row: sa.Row[*tuple[Any, ...]]) -> Delivery:
    from libs.common.bus import Delivery

    headers = tuple((name, base64.b64decode(value)) for name, value in json.loads(row.headers))
    return Delivery(
        row.topic,
        row.partition,
        row.offset,
        row.key.encode() if row.key is not None else None,
        base64.b64decode(row.value),
        headers,
    )


async def list_pending(sessions: async_sessionmaker[AsyncSession], *, consumer: str) -> list[sa.Row[*tuple[Any, ...]]]:
    async with sessions() as db:
        query = (
            sa.select(DeadLetters)
            .where(DeadLetters.c.consumer == consumer, DeadLetters.c.replayed_at.is_(None))
            .order_by(DeadLetters.c.id)
        )
        return list((await db.execute(query)).all())


@dataclass
class ReplayResult:
    replayed: int = 0
    failed: int = 0
    skipped: int = 0  # no longer routed to a handler (the type is not handled any more)


async def replay(consumer: Consumer, *, ids: list[int] | None = None) -> ReplayResult:
    """Re-apply pending dead letters in the order they died, each once (the inbox drops one already applied).
    One that fails again stays pending with its new error; the others go on."""
    result = ReplayResult()
    for row in await list_pending(consumer.sessions, consumer=consumer.name):
        if ids and row.id not in ids:
            continue
        item = await consumer.prepare(delivery_of(row))
        if item is None:
            if await _recorded_again(consumer, row):  # still malformed or invalid: prepare() kept it pending
                result.failed += 1
                continue
            result.skipped += 1
        else:
            try:
                await consumer.apply_once(item)
            except Exception as exc:  # the handler still fails: keep it, with the new error
                result.failed += 1
                async with consumer.sessions() as db, db.begin():
                    await db.execute(
                        sa.update(DeadLetters)
                        .where(DeadLetters.c.id == row.id)
                        .values(
                            error=f"{type(exc).__name__}: {exc}"[:8000],
                            failed_at=utcnow(),
                            attempts=DeadLetters.c.attempts + 1,
                        )
                    )
                continue
            result.replayed += 1
        async with consumer.sessions() as db, db.begin():
            await db.execute(sa.update(DeadLetters).where(DeadLetters.c.id == row.id).values(replayed_at=utcnow()))
    return result


async def _recorded_again(consumer: Consumer, row: sa.Row[*tuple[Any, ...]]) -> bool:
    async with consumer.sessions() as db:
        failed_at = (await db.execute(sa.select(DeadLetters.c.failed_at).where(DeadLetters.c.id == row.id))).scalar()
    return failed_at is not None and failed_at > row.failed_at
