"""Inbox: one row per (consumer, event id), written in the same transaction as the event's effect."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import dialect_of, utcnow
from libs.common.tables import ProcessedEventRow

Inbox = ProcessedEventRow.__table__


async def first_delivery(db: AsyncSession, event_id: str, *, consumer: str, event_type: str = "") -> bool:
    """True the first time `consumer` sees `event_id`; False for a redelivery, whose effect is already committed."""
    insert = postgresql.insert if dialect_of(db) == "postgresql" else sqlite.insert
    result = await db.execute(
        insert(Inbox)
        .values(consumer=consumer, event_id=event_id, event_type=event_type, processed_at=utcnow())
        .on_conflict_do_nothing()
    )
    return cast(CursorResult[Any], result).rowcount == 1  # DML gives a CursorResult; the stubs say Result


async def first_deliveries(db: AsyncSession, deliveries: list[tuple[str, str]], *, consumer: str) -> set[str]:
    """Batch form of first_delivery for (event_id, event_type) pairs: the event ids seen for the first time."""
    if not deliveries:
        return set()
    now = utcnow()
    rows = [
        {"consumer": consumer, "event_id": eid, "event_type": etype, "processed_at": now}
        for eid, etype in dict(deliveries).items()
    ]
    result = await db.execute(_insert_returning(dialect_of(db)), rows)
    return set(result.scalars())


@lru_cache(maxsize=2)
def _insert_returning(dialect: str) -> sa.Executable:
    # One statement for any batch size (executemany with RETURNING), compiled once.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(Inbox).on_conflict_do_nothing().returning(Inbox.c.event_id)


async def purge_processed(db: AsyncSession, *, retention: timedelta) -> int:
    result = await db.execute(sa.delete(Inbox).where(Inbox.c.processed_at < utcnow() - retention))
    return cast(CursorResult[Any], result).rowcount or 0
