"""Batches from field devices: one transaction per batch, each item all or nothing on its own, once per client key.

A batch is what a device sends when it syncs: many small custody writes of one organisation. They share what a
one-by-one submission would pay for each: the transaction, the organisation's block lock (taken shared once, so the
site and incident copies cannot change under the batch and are read once), the lookup of the keys seen before, the
lots it names (locked once, in id order, at its start, then kept as the batch writes them), the actors it names
(read once at its start, as a single write reads them at its start), the outbox rows (staged, one COPY at the end)
and the custody log: the batch's events are appended together at its end, under one lock of the log's head row,
with bulk inserts, in the order the items were applied (the chain is the one one-by-one appends would give). Each
item still answers on its own: a refused item leaves nothing (it is refused before writing, or its savepoint is
rolled back, with its log events and outbox rows) and the others go on; a refusal is not kept, so the device may
retry the key once the cause is gone. Transformations are items too (all or nothing, with mass balance)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.db import dialect_of, run_sql
from libs.common.errors import AppError
from services.traceability.repository import anomalies as requests
from services.traceability.repository import custody_log
from services.traceability.repository import lots as lot_store
from services.traceability.use_cases import blocking, checks, custody, lots, outbox_rows

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
        fresh = [item for item in items if item.idempotency_key not in seen]
        await checks.read_actors(db, _actors_named(fresh), org_id=org_id)
        locked = lot_store.keep_locked(db)
        await lot_store.lock_lots(db, _lots_named(fresh), org_id=org_id)
        pending = custody_log.defer(db)
        staged = outbox_rows.stage_outbox(db)
        savepoints = _Savepoints(db)
        answers: list[Answer] = []
        applied: dict[str, dict[str, Any]] = {}
        for item in items:
            key = item.idempotency_key
            done = seen.get(key) or ({"status": 201, "result": applied[key]} if key in applied else None)
            if done is not None:
                answers.append((key, done["status"], done["result"], True))
                continue
            marks, before = (len(pending), len(staged)), dict(locked)
            try:
                async with savepoints.item(item.action):
                    answer = await _apply(db, sessions, item, org_id=org_id)
            except AppError as refused:
                # the item's log events, outbox rows and lot rows went with its savepoint
                del pending[marks[0] :], staged[marks[1] :]
                locked.clear()
                locked.update(before)
                problem = {"code": getattr(refused, "code", "error"), "detail": refused.detail}
                answers.append((key, refused.status, problem, False))
                continue
            applied[key] = answer
            answers.append((key, 201, answer, False))
        await custody_log.append_pending(db, org_id=org_id)
        await outbox_rows.write_staged(db)
        if applied:
            rows = {key: {"status": 201, "result": answer} for key, answer in applied.items()}
            if await requests.save_requests(db, org_id=org_id, results=rows) != set(rows):
                raise _KeyTaken  # leaves the transaction: everything of this attempt is rolled back
        return answers


class _Savepoints:
    """A savepoint per item where it may be refused after writing. On PostgreSQL one name, on the driver:
    `SAVEPOINT` before the first such item, then `RELEASE SAVEPOINT; SAVEPOINT` in one round trip once anything
    was applied since (`ROLLBACK TO` keeps the savepoint, so after a refusal the next item needs none);
    SQLAlchemy's nested transaction (a flush, then SAVEPOINT and RELEASE, each a round trip) elsewhere. Nothing
    of the batch is added to the ORM session (lot rows on the driver, outbox rows staged), so rolling back on the
    driver leaves the session consistent. Transfers, confirmations and transformations refuse only before their
    first write (`checks.writing`): they run without one, and a refusal after that point fails the batch."""

    def __init__(self, db: AsyncSession) -> None:
        self.db, self.state = db, "none"  # none | open (nothing since) | used (an item applied since)

    @asynccontextmanager
    async def item(self, action: str) -> AsyncIterator[None]:
        if dialect_of(self.db) != "postgresql":
            async with self.db.begin_nested():
                yield
            return
        if action in _CHECKED_FIRST:
            self.db.info[checks.WRITING] = False
            try:
                yield
            except AppError as refused:
                if self.db.info[checks.WRITING]:
                    raise RuntimeError(f"a {action} was refused after it began writing") from refused
                raise
            finally:
                del self.db.info[checks.WRITING]
            self.state = "used" if self.state != "none" else "none"
            return
        if self.state != "open":
            await run_sql(self.db, _NEXT if self.state == "used" else _FIRST)
            self.state = "open"
        try:
            yield
        except AppError:
            await run_sql(self.db, "ROLLBACK TO SAVEPOINT batch_item")
            raise
        self.state = "used"


_CHECKED_FIRST = ("transfer", "confirm", "transform")
_FIRST, _NEXT = "SAVEPOINT batch_item", "RELEASE SAVEPOINT batch_item; SAVEPOINT batch_item"


def _actors_named(items: list[Any]) -> set[UUID]:
    names = ("from_actor_id", "to_actor_id", "actor_id", "producer_actor_id")
    return {value for item in items for name in names if (value := getattr(item, name, None)) is not None}


def _lots_named(items: list[Any]) -> set[UUID]:
    named: set[UUID] = set()
    for item in items:
        if item.action in ("transfer", "confirm"):
            named.add(item.lot_id)
        elif item.action == "transform":
            named.update(item.input_lot_ids)
    return named


async def _apply(
    db: AsyncSession, sessions: async_sessionmaker[AsyncSession], item: Any, *, org_id: str
) -> dict[str, Any]:
    if item.action == "transform":
        output_ids = await custody.transform(
            db, sessions, org_id=org_id, kind=item.kind, actor_id=item.actor_id, input_lot_ids=item.input_lot_ids,
            outputs=[custody.NewOutput(**out.model_dump()) for out in item.outputs], yield_pct=item.yield_pct,
        )  # fmt: skip
        return {"output_lot_ids": [str(lot_id) for lot_id in output_ids]}
    fields = item.model_dump(exclude={"action", "idempotency_key", "lot_id"})
    if item.action == "create_lot":
        return {"lot_id": str(await lots.create_lot(db, sessions, lots.NewLot(**fields), org_id=org_id))}
    if item.action == "transfer":
        event_id = await custody.initiate_transfer(db, sessions, item.lot_id, org_id=org_id, **fields)
        return {"event_id": str(event_id)}
    return {"event_id": str(await custody.confirm_transfer(db, item.lot_id, org_id=org_id, **fields))}
