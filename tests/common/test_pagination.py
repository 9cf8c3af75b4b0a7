"""The shared page helper on the database the suite runs on: a page and its total agree, on a read connection (what
GET routes get) and on a write session alike; past the end the total still answers; one column comes back alone."""

from __future__ import annotations

from uuid import uuid4

import pytest
import sqlalchemy as sa

from libs.common.db import read_engine, utcnow
from libs.common.pagination import Pagination, fetch_page
from libs.common.tables import DeadLetterRow

Dead = DeadLetterRow.__table__


async def _seed(stack, count: int) -> str:  # type: ignore[no-untyped-def]
    consumer = f"pages-{uuid4().hex[:8]}"
    async with stack.sessions("traceability")() as db, db.begin():
        for n in range(count):
            await db.execute(
                sa.insert(Dead).values(
                    consumer=consumer,
                    event_id=f"e-{n:03d}",
                    event_type="ActorRegistered.v1",
                    topic="kyc.events",
                    partition=0,
                    offset=n,
                    key="k",
                    headers="[]",
                    value="",
                    error="boom",
                    attempts=1,
                    failed_at=utcnow(),
                )
            )
    return consumer


def _query(consumer: str) -> sa.Select:  # type: ignore[type-arg]
    return sa.select(Dead).where(Dead.c.consumer == sa.bindparam("consumer")).order_by(Dead.c.event_id)


@pytest.mark.parametrize("on", ["read connection", "write session"])
async def test_a_page_and_its_total_come_from_one_statement_and_agree(stack, on):  # type: ignore[no-untyped-def]
    consumer = await _seed(stack, 7)
    query, params = _query(consumer), {"consumer": consumer}

    async def page_of(limit: int, offset: int) -> tuple[list[str], int]:
        if on == "read connection":
            async with read_engine(stack.engine("traceability")).connect() as db:
                rows, total = await fetch_page(db, query, Pagination(limit=limit, offset=offset), params)
        else:
            async with stack.sessions("traceability")() as db:
                rows, total = await fetch_page(db, query, Pagination(limit=limit, offset=offset), params)
        return [r.event_id for r in rows], total

    assert await page_of(3, 0) == (["e-000", "e-001", "e-002"], 7)
    assert await page_of(3, 6) == (["e-006"], 7)
    assert await page_of(3, 9) == ([], 7)  # past the end: the total is still told


async def test_one_selected_column_comes_back_as_values(stack):  # type: ignore[no-untyped-def]
    consumer = await _seed(stack, 4)
    query = sa.select(Dead.c.event_id).where(Dead.c.consumer == consumer).order_by(Dead.c.event_id.desc())
    async with read_engine(stack.engine("traceability")).connect() as db:
        assert await fetch_page(db, query, Pagination(limit=2)) == (["e-003", "e-002"], 4)


async def test_an_empty_match_is_an_empty_page_of_total_zero(stack):  # type: ignore[no-untyped-def]
    async with read_engine(stack.engine("traceability")).connect() as db:
        assert await fetch_page(db, _query("nobody"), Pagination(), {"consumer": "nobody"}) == ([], 0)


async def test_read_rows_answers_float_and_numeric_columns_as_sqlalchemy_does(stack):  # type: ignore[no-untyped-def]
    """The driver path cannot know a Numeric's or Float's processing before the column's driver type is seen: such a
    statement is left to SQLAlchemy, with the same answer (it once failed with 'Unknown PG numeric type')."""
    from decimal import Decimal

    from libs.common.db import read_rows

    query = sa.select(
        sa.cast(sa.bindparam("f"), sa.Float).label("f"),
        sa.cast(sa.bindparam("n"), sa.Numeric(10, 2)).label("n"),
        sa.literal(1).label("one"),
    )
    async with read_engine(stack.engine("traceability")).connect() as db:
        rows = await read_rows(db, query, {"f": 2.5, "n": Decimal("1.25")})
        again = (await db.execute(query, {"f": 2.5, "n": Decimal("1.25")})).all()
    assert [tuple(r) for r in rows] == [tuple(r) for r in again] == [(2.5, Decimal("1.25"), 1)]
