"""Custody anomalies as stored, once per anomaly id, and batch idempotency keys."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import Executor, dialect_of, insert, utcnow
from libs.common.pagination import Pagination, fetch_page
from services.traceability.tables.lots import AnomalyRow, CustodyRequestRow

Anomalies = AnomalyRow.__table__
Requests = CustodyRequestRow.__table__


async def save_anomaly(db: AsyncSession, values: dict[str, Any]) -> bool:
    """True when the anomaly is new (then the caller publishes it); False when this cause was already recorded."""
    statement = insert(dialect_of(db), Anomalies).values(**values).on_conflict_do_nothing(index_elements=["anomaly_id"])
    result = await db.execute(statement.returning(Anomalies.c.anomaly_id))
    return result.first() is not None


async def list_anomalies(db: Executor, *, org_id: str, kind: str | None, page: Pagination) -> Any:
    query = sa.select(Anomalies).where(Anomalies.c.org_id == org_id)
    if kind:
        query = query.where(Anomalies.c.kind == kind)
    return await fetch_page(db, query.order_by(Anomalies.c.detected_at, Anomalies.c.anomaly_id), page)


async def find_requests(db: Executor, *, org_id: str, keys: list[str]) -> dict[str, dict[str, Any]]:
    """The stored answers of the keys already applied, by key (one statement for a batch)."""
    if not keys:
        return {}
    query = sa.select(Requests.c.idempotency_key, Requests.c.result).where(
        Requests.c.org_id == org_id, Requests.c.idempotency_key.in_(sorted(set(keys)))
    )
    return {row.idempotency_key: row.result for row in await db.execute(query)}


async def save_requests(db: AsyncSession, *, org_id: str, results: dict[str, dict[str, Any]]) -> set[str]:
    """Store the answers by key; returns the keys stored now (a key a concurrent submission stored first is not)."""
    if not results:
        return set()
    now = utcnow()
    rows = [{"org_id": org_id, "idempotency_key": k, "result": r, "created_at": now} for k, r in results.items()]
    statement = insert(dialect_of(db), Requests).on_conflict_do_nothing(index_elements=["org_id", "idempotency_key"])
    stored = await db.execute(statement.returning(Requests.c.idempotency_key), rows)
    return set(stored.scalars())


async def anomaly_ids(db: Executor, *, org_id: str) -> list[UUID]:
    return list((await db.execute(sa.select(Anomalies.c.anomaly_id).where(Anomalies.c.org_id == org_id))).scalars())
