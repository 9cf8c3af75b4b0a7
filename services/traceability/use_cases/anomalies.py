"""Recording custody anomalies: once per cause, published in the same transaction as the row."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.db import utcnow
from libs.common.events.traceability import CustodyAnomalyDetected
from services.traceability.domain.rules import Anomaly
from services.traceability.repository import anomalies as repository
from services.traceability.use_cases import outbox_rows


async def record(db: AsyncSession, anomaly: Anomaly, *, org_id: str) -> None:
    now = utcnow()
    values = {
        "anomaly_id": anomaly.anomaly_id,
        "org_id": org_id,
        "kind": anomaly.kind,
        "detail": anomaly.detail,
        "lot_ids": [str(x) for x in anomaly.lot_ids],
        "actor_ids": [str(x) for x in anomaly.actor_ids],
        "site_ids": [str(x) for x in anomaly.site_ids],
        "detected_at": now,
    }
    if await repository.save_anomaly(db, values):
        event = CustodyAnomalyDetected(
            org_id=org_id,
            anomaly_id=anomaly.anomaly_id,
            kind=anomaly.kind,
            detail=anomaly.detail,
            lot_ids=list(anomaly.lot_ids),
            actor_ids=list(anomaly.actor_ids),
            site_ids=list(anomaly.site_ids),
            country=anomaly.country,
            mineral=anomaly.mineral,
            detected_at=now,
        )
        outbox_rows.stage(db, event, key=anomaly.anomaly_id)


async def record_apart(sessions: async_sessionmaker[AsyncSession], anomaly: Anomaly, *, org_id: str) -> None:
    """In a transaction of its own: the request that caused it is refused, and its rollback must not take this."""
    async with sessions() as db, db.begin():
        await record(db, anomaly, org_id=org_id)
