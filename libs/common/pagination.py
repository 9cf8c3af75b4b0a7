"""One way to page a list: the query parameters (one set of bounds) and the count-plus-page query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import sqlalchemy as sa
from fastapi import Depends, Query

from libs.common.db import Executor

T = TypeVar("T")
MAX_LIMIT = 500
MAX_OFFSET = 1_000_000


@dataclass(frozen=True)
class Pagination:
    limit: int = 100
    offset: int = 0


async def _pagination(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")] = 0,
) -> Pagination:
    return Pagination(limit=limit, offset=offset)


PageQuery = Annotated[Pagination, Depends(_pagination)]


TOTAL = "assay_total"


async def fetch_page(db: Executor, query: sa.Select[Any], page: Pagination) -> tuple[list[Any], int]:
    """The rows of `query` on this page (scalars when it selects one column) and how many match in all. One
    statement: the total is a window count beside each row, so page and total are one snapshot and one round trip
    (reads run in autocommit); only a page past the end asks for the count alone."""
    single = len(query.selected_columns) == 1
    counted = query.add_columns(sa.func.count().over().label(TOTAL)).limit(page.limit).offset(page.offset)
    rows = list((await db.execute(counted)).all())
    if rows:
        total = int(rows[0][-1])
    elif page.offset == 0:
        total = 0
    else:
        count = sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
        total = int((await db.execute(count)).scalar_one())
    # The extra column is left on a row (mapping to domain objects takes the columns it knows); a single column
    # is handed back alone.
    return ([row[0] for row in rows] if single else rows), total
