"""copy_rows: many rows in the caller's transaction (binary COPY on PostgreSQL, executemany elsewhere), as plain
inserts or as an upsert on given keys, with the columns' types applied (JSON, UTC timestamps, UUIDs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import sqlalchemy as sa

from libs.common.db import copy_rows, make_sessions
from services.scoring.risk.tables import risk_score, risk_score_history

AT = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def score(subject_id, version: int, points: float) -> dict:  # type: ignore[no-untyped-def]
    return {
        "subject_type": "actor",
        "subject_id": subject_id,
        "org_id": "org-copy",
        "version": version,
        "score": points,
        "band": "high" if points >= 50 else "low",
        "factors": [{"factor": "kyc_status", "value": "suspended", "contribution": points, "source_event_id": None}],
        "weights_version": "w1",
        "computed_at": AT + timedelta(seconds=version),
    }


async def test_rows_are_inserted_and_upserted_with_their_types_in_the_callers_transaction(stack):
    sessions = make_sessions(stack.engine("scoring"))
    ids = [uuid4() for _ in range(300)]
    async with sessions() as db, db.begin():
        await copy_rows(db, risk_score, [score(i, 1, 10.0) for i in ids], upsert_keys=("subject_type", "subject_id"))
        await copy_rows(db, risk_score_history, [score(i, 1, 10.0) for i in ids])
        # the same call twice in one transaction: the second replaces what the first wrote
        changed = [score(i, 2, 80.0) for i in ids[:100]]
        await copy_rows(db, risk_score, changed, upsert_keys=("subject_type", "subject_id"))
        await copy_rows(db, risk_score_history, changed)

    async with sessions() as db:
        rows = {
            r.subject_id: r for r in await db.execute(sa.select(risk_score).where(risk_score.c.org_id == "org-copy"))
        }
        history = (
            await db.execute(sa.select(sa.func.count()).where(risk_score_history.c.org_id == "org-copy"))
        ).scalar_one()
    assert len(rows) == 300 and history == 400
    first = rows[ids[0]]
    assert (first.version, first.score, first.band) == (2, 80.0, "high")
    assert first.factors == score(ids[0], 2, 80.0)["factors"]
    assert first.computed_at == AT + timedelta(seconds=2) and first.computed_at.tzinfo is not None
    assert (rows[ids[-1]].version, rows[ids[-1]].score) == (1, 10.0)


async def test_a_failed_copy_leaves_nothing_of_the_transaction(stack):
    sessions = make_sessions(stack.engine("scoring"))
    subject = uuid4()
    with pytest.raises(Exception):  # noqa: B017 - the driver's own error on PostgreSQL, SQLAlchemy's on SQLite
        async with sessions() as db, db.begin():
            await copy_rows(db, risk_score_history, [score(subject, 1, 10.0)])
            await copy_rows(db, risk_score_history, [score(subject, 1, 10.0)])  # the same primary key again
    async with sessions() as db:
        left = await db.execute(sa.select(risk_score_history).where(risk_score_history.c.subject_id == subject))
        assert left.all() == []
