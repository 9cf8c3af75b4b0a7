"""One way to page a list: the query parameters (one set of bounds) and the count-plus-page query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import sqlalchemy as sa
from fastapi import Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

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


async def fetch_page(db: AsyncSession, query: sa.Select[Any], page: Pagination) -> tuple[list[Any], int]:
    """The rows of `query` on this page (scalars when it selects one entity) and how many match in all."""
    total = (await db.execute(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))).scalar_one()
    result = await db.execute(query.limit(page.limit).offset(page.offset))
    rows = list(result.scalars()) if len(query.selected_columns) == 1 else list(result.all())
    return rows, total
