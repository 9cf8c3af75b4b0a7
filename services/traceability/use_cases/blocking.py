"""Blocking as state: lots' `blocked_reasons` kept equal to what the read models say, with one event per transition.

A site copy turning red (or back), an incident copy becoming a blocking one (level 1, verified or in mitigation) or
ceasing to be one (resolved, closed, dismissed, downgraded, or naming other sites, actors or lots) recomputes the
affected non-consumed lots in the same transaction as the read-model update. A lot going from no reason to some
publishes LotBlocked, from some to none LotReleased (through the outbox, the lot's version one higher); a change of
reasons while it stays blocked (a second reason, or one of two cleared) is stored without an event and shows in the
lot's next one. A duplicate or stale event writes no read model (save_versioned) and so recomputes nothing.

Custody writes that change what touches a lot (creation, a confirmed transfer to a new holder, transformation
outputs) settle that lot the same way. Concurrency: a read-model change locks its candidate lots (FOR UPDATE), so a
move of an existing lot, which locks the lot first, either runs before it or sees what it committed. What row
locks cannot cover is a lot the change's query could not see yet: one created, or confirmed to a newly named
holder, by a write committing meanwhile. So read-model changes take the organisation's block lock exclusively and
the writes that create lots or change a holder (creation, confirmation, transformation) take it shared, before any
lot lock (PostgreSQL advisory transaction locks; SQLite serialises writers anyway). Transfers out, exports and
receipts change nothing a block depends on and skip it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import Executor, dialect_of, write_rows
from libs.common.events.traceability import LotBlocked, LotReleased
from services.traceability.repository import lots as repository
from services.traceability.repository import read_models
from services.traceability.use_cases import checks
from services.traceability.use_cases.lots import publish

Lots = repository.Lots


# Set by a caller that holds the organisation's block lock shared for the whole of its session's one transaction
# (a batch): the writes inside need not take it again, and the read models they read cannot change meanwhile.
HELD_SHARED = "traceability.blocks_held_shared"


def _lock_key(org_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"traceability-blocks:{org_id}".encode()).digest()[:8], "big", signed=True)


async def lock_org(db: Executor, org_id: str, *, exclusive: bool) -> None:
    """The organisation's block lock until the transaction ends: exclusive for a read-model change, shared for a
    custody write (custody writes do not wait for each other)."""
    if dialect_of(db) != "postgresql" or (not exclusive and db.info.get(HELD_SHARED) == org_id):
        return
    await write_rows(db, _LOCKS[exclusive], {"p_key": _lock_key(org_id)})


# Built once, run on the driver (write_rows): every custody write that creates a lot or changes a holder takes it.
_LOCKS = {
    exclusive: sa.select(lock(sa.bindparam("p_key", type_=sa.BigInteger())))
    for exclusive, lock in ((True, sa.func.pg_advisory_xact_lock), (False, sa.func.pg_advisory_xact_lock_shared))
}


def _mentions(column: Any, ids: Iterable[Any]) -> list[Any]:
    """Prefilters on a JSON list of ids (text match; the exact test is Blockers.reasons): portable, no JSON index."""
    return [sa.cast(column, sa.Text).like(f'%"{value}"%') for value in ids]


async def _candidates(db: Executor, org_id: str, condition: Any) -> list[sa.Row[Any]]:
    query = (
        sa.select(Lots)
        .where(Lots.c.org_id == org_id, Lots.c.status != "consumed", condition)
        .order_by(Lots.c.lot_id)
        .with_for_update()
    )
    return list((await db.execute(query)).all())


async def refresh(db: AsyncSession, lots: Sequence[sa.Row[Any]], *, org_id: str) -> list[tuple[UUID, str]]:
    """Store each lot's derived reasons; publish LotBlocked / LotReleased on a transition. Returns the transitions."""
    if not lots:
        return []
    found = await checks.blockers(db, org_id=org_id)
    moves: list[tuple[UUID, str]] = []
    for lot in lots:
        if lot.status == "consumed":
            continue
        before, after = sorted(lot.blocked_reasons or []), found.reasons(lot)
        if before == after:
            continue
        if bool(before) == bool(after):  # still blocked, for other reasons: no transition, no event
            await db.execute(sa.update(Lots).where(Lots.c.lot_id == lot.lot_id).values(blocked_reasons=after))
            repository.forget(db, lot.lot_id)  # a batch's kept row of it is stale now
            continue
        await repository.update_lot(db, lot.lot_id, blocked_reasons=after)
        if after:
            await publish(db, LotBlocked, lot.lot_id, org_id=org_id, reason=", ".join(after))
            moves.append((lot.lot_id, "blocked"))
        else:
            await publish(db, LotReleased, lot.lot_id, org_id=org_id, reason="cleared: " + ", ".join(before))
            moves.append((lot.lot_id, "released"))
    return moves


async def site_changed(db: AsyncSession, site_id: UUID, *, org_id: str) -> list[tuple[UUID, str]]:
    lots = await _candidates(db, org_id, sa.or_(*_mentions(Lots.c.origin_site_ids, [site_id])))
    return await refresh(db, [lot for lot in lots if str(site_id) in lot.origin_site_ids], org_id=org_id)


async def incident_changed(db: AsyncSession, incident_id: UUID, *, org_id: str) -> list[tuple[UUID, str]]:
    """Lots the incident names now (itself, by origin site, by holder) and lots it blocked before."""
    incident = await read_models.get_incident(db, incident_id)
    lot_ids = [UUID(x) for x in incident.lot_ids] if incident else []
    site_ids = list(incident.site_ids) if incident else []
    actor_ids = [UUID(x) for x in incident.actor_ids] if incident else []
    conditions = [
        Lots.c.lot_id.in_(lot_ids),
        Lots.c.custodian_actor_id.in_(actor_ids),
        *_mentions(Lots.c.origin_site_ids, site_ids),
        sa.cast(Lots.c.blocked_reasons, sa.Text).like(f"%incident:{incident_id}%"),
    ]
    return await refresh(db, await _candidates(db, org_id, sa.or_(*conditions)), org_id=org_id)


async def settle(db: AsyncSession, lot_ids: Iterable[UUID], *, org_id: str) -> list[tuple[UUID, str]]:
    """After a custody write changed what touches these lots (new lot, new holder): store their reasons."""
    ids = list(lot_ids)
    return await refresh(db, await _candidates(db, org_id, Lots.c.lot_id.in_(ids)), org_id=org_id)
