"""Batches from field devices: each item in its own transaction, once per client idempotency key."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.errors import AppError
from services.traceability.repository import anomalies as requests
from services.traceability.use_cases import custody, lots


async def submit(
    sessions: async_sessionmaker[AsyncSession], items: list[Any], *, org_id: str
) -> list[tuple[str, int, dict[str, Any], bool]]:
    """(key, status, result, replayed) per item, in order. A key seen before answers what it answered then, so a
    device that syncs twice creates nothing twice. A refusal is not kept: the device may retry the key once the
    cause is gone (say, the receiver approved)."""
    return [await _one(sessions, item, org_id=org_id) for item in items]


async def _one(
    sessions: async_sessionmaker[AsyncSession], item: Any, *, org_id: str
) -> tuple[str, int, dict[str, Any], bool]:
    key = item.idempotency_key
    async with sessions() as db:
        seen = await requests.find_request(db, org_id=org_id, key=key)
    if seen is not None:
        return key, seen["status"], seen["result"], True
    try:
        async with sessions() as db, db.begin():
            answer = await _apply(db, sessions, item, org_id=org_id)
            await requests.save_request(db, org_id=org_id, key=key, result={"status": 201, "result": answer})
        return key, 201, answer, False
    except AppError as refused:
        problem = {"code": getattr(refused, "code", "error"), "detail": refused.detail}
        return key, refused.status, problem, False
    except IntegrityError:  # the same key applied concurrently: its answer is the one
        async with sessions() as db:
            seen = await requests.find_request(db, org_id=org_id, key=key)
        if seen is None:
            raise
        return key, seen["status"], seen["result"], True


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
