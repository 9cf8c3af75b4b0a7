"""Batches from field devices: one transaction per batch, each item in its own savepoint, once per client key.

A batch is what a device sends when it syncs: many small custody writes of one organisation. They share what a
one-by-one submission would pay for each: the transaction, the organisation's block lock (taken shared once, so the
site and incident copies cannot change under the batch and are read once), the lookup of the keys seen before, and
the custody log: the batch's events are appended together at its end, under one lock of the log's head row, with
bulk inserts, in the order the items were applied (the chain is the one one-by-one appends would give). Each item
still answers on its own: a refused item rolls back its savepoint (its writes and its log events) and the others
go on; a refusal is not kept, so the device may retry the key once the cause is gone."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.errors import AppError
from services.traceability.repository import anomalies as requests
from services.traceability.repository import custody_log
from services.traceability.use_cases import blocking, checks, custody, lots

Answer = tuple[str, int, dict[str, Any], bool]
ATTEMPTS = 3  # a batch that lost a race on a key, or a deadlock, runs again from the start (nothing was kept)
RETRY_SQLSTATES = ("40P01", "40001")  # deadlock detected, serialization failure


class _KeyTaken(Exception):
    """A key of this batch was applied by a concurrent submission after this one looked: run again, replaying it."""


async def submit(sessions: async_sessionmaker[AsyncSession], items: list[Any], *, org_id: str) -> list[Answer]:
    """(key, status, result, replayed) per item, in order. A key seen before answers what it answered then, so a
    device that syncs twice creates nothing twice."""
    for attempt in range(ATTEMPTS):
        try:
            return await _submit_once(sessions, items, org_id=org_id)
        except _KeyTaken:
            continue
        except Exception as error:  # SQLAlchemy's DBAPIError, or asyncpg's own from a statement run on the driver
            state = getattr(getattr(error, "orig", None), "sqlstate", None) or getattr(error, "sqlstate", None)
            if state not in RETRY_SQLSTATES or attempt == ATTEMPTS - 1:
                raise
    return await _submit_once(sessions, items, org_id=org_id)


async def _submit_once(sessions: async_sessionmaker[AsyncSession], items: list[Any], *, org_id: str) -> list[Answer]:
    keys = [item.idempotency_key for item in items]
    async with sessions() as db, db.begin():
        seen = await requests.find_requests(db, org_id=org_id, keys=keys)
        if all(key in seen for key in keys):  # a batch synced again: nothing to lock or write
            return [(key, seen[key]["status"], seen[key]["result"], True) for key in keys]
        await blocking.lock_org(db, org_id, exclusive=False)
        db.info[blocking.HELD_SHARED] = org_id
        db.info[checks.BLOCKERS_CACHE] = {}
        pending = custody_log.defer(db)
        answers: list[Answer] = []
        applied: dict[str, dict[str, Any]] = {}
        for item in items:
            key = item.idempotency_key
            done = seen.get(key) or ({"status": 201, "result": applied[key]} if key in applied else None)
            if done is not None:
                answers.append((key, done["status"], done["result"], True))
                continue
            mark = len(pending)
            try:
                async with db.begin_nested():
                    answer = await _apply(db, sessions, item, org_id=org_id)
            except AppError as refused:
                del pending[mark:]  # the item's log events went with its savepoint
                problem = {"code": getattr(refused, "code", "error"), "detail": refused.detail}
                answers.append((key, refused.status, problem, False))
                continue
            applied[key] = answer
            answers.append((key, 201, answer, False))
        await custody_log.append_pending(db, org_id=org_id)
        if applied:
            rows = {key: {"status": 201, "result": answer} for key, answer in applied.items()}
            if await requests.save_requests(db, org_id=org_id, results=rows) != set(rows):
                raise _KeyTaken  # leaves the transaction: everything of this attempt is rolled back
        return answers


async def _apply(
    db: AsyncSession, sessions: async_sessionmaker[AsyncSession], item: Any, *, org_id: str
) -> dict[str, Any]:
    fields = item.model_dump(exclude={"action", "idempotency_key", "lot_id"})
    if item.action == "create_lot":
        return {"lot_id": str(await lots.create_lot(db, sessions, lots.NewLot(**fields), org_id=org_id))}
    if item.action == "transfer":
        event_id = await custody.initiate_transfer(db, sessions, item.lot_id, org_id=org_id, **fields)
        return {"event_id": str(event_id)}
    return {"event_id": str(await custody.confirm_transfer(db, item.lot_id, org_id=org_id, **fields))}
