"""The append-only custody log: events get the org's next seq and chain to its last hash under the head row's lock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import Executor, dialect_of, insert, utcnow
from services.traceability.domain.canonical import GENESIS_HASH, canonical_body, event_hash
from services.traceability.tables.custody import CustodyEventLotRow, CustodyEventRow, CustodyLogHeadRow

Events = CustodyEventRow.__table__
EventLots = CustodyEventLotRow.__table__
Heads = CustodyLogHeadRow.__table__


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
    await db.execute(
        sa.insert(Events).values(
            event_id=event_id,
            org_id=org_id,
            seq=seq,
            kind=kind,
            body=body,
            prev_hash=prev_hash,
            hash=digest,
            recorded_at=utcnow(),
        )
    )
    pairs = sorted(set(lots), key=lambda pair: (str(pair[0]), pair[1]))
    if pairs:
        await db.execute(sa.insert(EventLots), [{"event_id": event_id, "lot_id": lot, "role": r} for lot, r in pairs])
    await db.execute(sa.update(Heads).where(Heads.c.org_id == org_id).values(next_seq=seq + 1, last_hash=digest))
    return LoggedEvent(event_id=event_id, seq=seq, kind=kind, body=body, prev_hash=prev_hash, hash=digest)


async def _lock_head(db: AsyncSession, org_id: str) -> tuple[int, str]:
    create = insert(dialect_of(db), Heads).values(org_id=org_id, next_seq=0, last_hash=GENESIS_HASH)
    await db.execute(create.on_conflict_do_nothing(index_elements=["org_id"]))
    query = sa.select(Heads.c.next_seq, Heads.c.last_hash).where(Heads.c.org_id == org_id).with_for_update()
    row = (await db.execute(query)).one()
    return int(row.next_seq), str(row.last_hash)


async def list_events_of_lots(db: Executor, lot_ids: Iterable[UUID], *, org_id: str) -> list[sa.Row[Any]]:
    """The log's events touching any of `lot_ids`, in log order."""
    ids = list(set(lot_ids))
    if not ids:
        return []
    touching = sa.select(EventLots.c.event_id).where(EventLots.c.lot_id.in_(ids))
    query = sa.select(Events).where(Events.c.org_id == org_id, Events.c.event_id.in_(touching)).order_by(Events.c.seq)
    return list((await db.execute(query)).all())
