"""The append-only custody log: events get the org's next seq and chain to its last hash under the head row's lock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import Executor, copy_rows, dialect_of, fetch_sql, insert, utcnow, write_rows
from services.traceability.domain.canonical import GENESIS_HASH, canonical_body, event_hash
from services.traceability.tables.custody import CustodyEventLotRow, CustodyEventRow, CustodyLogHeadRow

Events = CustodyEventRow.__table__
EventLots = CustodyEventLotRow.__table__
Heads = CustodyLogHeadRow.__table__


# Built once with bound parameters and run on the driver (write_rows): every custody write runs them.
_HEAD_FOR_UPDATE = (
    sa.select(Heads.c.next_seq, Heads.c.last_hash).where(Heads.c.org_id == sa.bindparam("p_org_id")).with_for_update()
)
_UPDATE_HEAD = (
    sa.update(Heads)
    .where(Heads.c.org_id == sa.bindparam("p_org_id"))
    .values(next_seq=sa.bindparam("p_next_seq"), last_hash=sa.bindparam("p_last_hash"))
)
_INSERT_EVENT = sa.insert(Events).values(
    {name: sa.bindparam(f"p_{name}", type_=Events.c[name].type)
     for name in ("event_id", "org_id", "seq", "kind", "body", "prev_hash", "hash", "recorded_at")}
)  # fmt: skip
_INSERT_EVENT_LOT = sa.insert(EventLots).values(
    {name: sa.bindparam(f"p_{name}", type_=EventLots.c[name].type) for name in ("event_id", "lot_id", "role")}
)


_APPEND = """
WITH event AS (
    INSERT INTO custody_event (event_id, org_id, seq, kind, body, prev_hash, hash, recorded_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
), lots AS (
    INSERT INTO custody_event_lot (event_id, lot_id, role) SELECT $1, x.lot_id, x.role
    FROM unnest($9::uuid[], $10::text[]) AS x(lot_id, role)
)
UPDATE custody_log_head SET next_seq = $11, last_hash = $7 WHERE org_id = $2
"""


@dataclass(frozen=True)
class LoggedEvent:
    event_id: UUID
    seq: int
    kind: str
    body: str
    prev_hash: str
    hash: str


async def append_event(
    db: AsyncSession,
    *,
    org_id: str,
    event_id: UUID,
    kind: str,
    content: Mapping[str, Any],
    lots: Iterable[tuple[UUID, str]],
) -> LoggedEvent:
    """Append one event to `org_id`'s log: `content` (JSON-ready values) plus event_id, seq, kind, org_id and
    prev_hash becomes the canonical body; `lots` are (lot_id, role) pairs. The head row stays locked until the
    caller's transaction ends, so the log of one organisation is written by one transaction at a time."""
    seq, prev_hash = await _lock_head(db, org_id)
    body = canonical_body(
        {**content, "event_id": str(event_id), "seq": seq, "kind": kind, "org_id": org_id, "prev_hash": prev_hash}
    )
    digest = event_hash(body)
    values = {"p_event_id": event_id, "p_org_id": org_id, "p_seq": seq, "p_kind": kind, "p_body": body,
              "p_prev_hash": prev_hash, "p_hash": digest, "p_recorded_at": utcnow()}  # fmt: skip
    pairs = sorted(set(lots), key=lambda pair: (str(pair[0]), pair[1]))
    if dialect_of(db) == "postgresql":  # the event, its lots and the head: one statement, one round trip
        await fetch_sql(
            db, _APPEND, event_id, org_id, seq, kind, body, prev_hash, digest, values["p_recorded_at"],
            [lot for lot, _ in pairs], [role for _, role in pairs], seq + 1,
        )  # fmt: skip
        return LoggedEvent(event_id=event_id, seq=seq, kind=kind, body=body, prev_hash=prev_hash, hash=digest)
    await write_rows(db, _INSERT_EVENT, values)
    if len(pairs) == 1:
        await write_rows(
            db, _INSERT_EVENT_LOT, {"p_event_id": event_id, "p_lot_id": pairs[0][0], "p_role": pairs[0][1]}
        )
    elif pairs:
        await db.execute(sa.insert(EventLots), [{"event_id": event_id, "lot_id": lot, "role": r} for lot, r in pairs])
    await write_rows(db, _UPDATE_HEAD, {"p_org_id": org_id, "p_next_seq": seq + 1, "p_last_hash": digest})
    return LoggedEvent(event_id=event_id, seq=seq, kind=kind, body=body, prev_hash=prev_hash, hash=digest)


_DEFERRED = "traceability.custody_log.deferred"


@dataclass(frozen=True)
class PendingEvent:
    event_id: UUID
    kind: str
    content: Mapping[str, Any]
    lots: tuple[tuple[UUID, str], ...]


def defer(db: AsyncSession) -> list[PendingEvent]:
    """From now on in this session, `record_event` keeps events in the returned list instead of appending them;
    `append_pending` appends them all at once (a batch: one head lock, bulk inserts). The caller drops the
    entries of a rolled-back savepoint itself."""
    pending: list[PendingEvent] = []
    db.info[_DEFERRED] = pending
    return pending


async def record_event(
    db: AsyncSession,
    *,
    org_id: str,
    event_id: UUID,
    kind: str,
    content: Mapping[str, Any],
    lots: Iterable[tuple[UUID, str]],
) -> UUID:
    """`append_event`, or, in a session that defers (`defer`), the event kept for `append_pending`."""
    pending: list[PendingEvent] | None = db.info.get(_DEFERRED)
    if pending is None:
        return (
            await append_event(db, org_id=org_id, event_id=event_id, kind=kind, content=content, lots=lots)
        ).event_id
    pending.append(PendingEvent(event_id=event_id, kind=kind, content=content, lots=tuple(lots)))
    return event_id


async def append_pending(db: AsyncSession, *, org_id: str) -> list[LoggedEvent]:
    """Append the deferred events in the order they were recorded, under one lock of the head row (held until
    the transaction ends, as for `append_event`): the chain and seqs are the ones one-by-one appends would give."""
    pending: list[PendingEvent] = db.info.pop(_DEFERRED, None) or []
    if not pending:
        return []
    seq, prev_hash = await _lock_head(db, org_id)
    logged, events, event_lots, now = [], [], [], utcnow()
    for entry in pending:
        body = canonical_body(
            {**entry.content, "event_id": str(entry.event_id), "seq": seq, "kind": entry.kind, "org_id": org_id,
             "prev_hash": prev_hash}
        )  # fmt: skip
        digest = event_hash(body)
        events.append(
            {"event_id": entry.event_id, "org_id": org_id, "seq": seq, "kind": entry.kind, "body": body,
             "prev_hash": prev_hash, "hash": digest, "recorded_at": now}
        )  # fmt: skip
        for lot, role in sorted(set(entry.lots), key=lambda pair: (str(pair[0]), pair[1])):
            event_lots.append({"event_id": entry.event_id, "lot_id": lot, "role": role})
        logged.append(LoggedEvent(entry.event_id, seq, entry.kind, body, prev_hash, digest))
        seq, prev_hash = seq + 1, digest
    await copy_rows(db, Events, events)
    await copy_rows(db, EventLots, event_lots)
    await write_rows(db, _UPDATE_HEAD, {"p_org_id": org_id, "p_next_seq": seq, "p_last_hash": prev_hash})
    return logged


async def _lock_head(db: AsyncSession, org_id: str) -> tuple[int, str]:
    """The head row, locked; created first for an organisation's first event (one statement when it exists)."""
    found = await write_rows(db, _HEAD_FOR_UPDATE, {"p_org_id": org_id})
    if not found:
        create = insert(dialect_of(db), Heads).values(org_id=org_id, next_seq=0, last_hash=GENESIS_HASH)
        await db.execute(create.on_conflict_do_nothing(index_elements=["org_id"]))
        found = await write_rows(db, _HEAD_FOR_UPDATE, {"p_org_id": org_id})
    return int(found[0].next_seq), str(found[0].last_hash)


async def list_events_of_lots(db: Executor, lot_ids: Iterable[UUID], *, org_id: str) -> list[sa.Row[Any]]:
    """The log's events touching any of `lot_ids`, in log order."""
    ids = list(set(lot_ids))
    if not ids:
        return []
    touching = sa.select(EventLots.c.event_id).where(EventLots.c.lot_id.in_(ids))
    query = sa.select(Events).where(Events.c.org_id == org_id, Events.c.event_id.in_(touching)).order_by(Events.c.seq)
    return list((await db.execute(query)).all())


async def find_event(db: Executor, event_id: UUID, *, org_id: str) -> sa.Row[Any] | None:
    query = sa.select(Events).where(Events.c.event_id == event_id, Events.c.org_id == org_id)
    return (await db.execute(query)).one_or_none()


async def lots_of_event(db: Executor, event_id: UUID) -> list[UUID]:
    query = sa.select(EventLots.c.lot_id).where(EventLots.c.event_id == event_id).distinct()
    return sorted((await db.execute(query)).scalars(), key=str)
