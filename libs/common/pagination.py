"""One way to page a list: the query parameters (one set of bounds) and the count-plus-page query."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import sqlalchemy as sa
from fastapi import Depends, Query

from libs.common.db import Executor, read_rows

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


async def fetch_page(
    db: Executor, query: sa.Select[Any], page: Pagination, params: Mapping[str, Any] | None = None
) -> tuple[list[Any], int]:
    """The rows of `query` on this page (scalars when it selects one column) and how many match in all; `params`
    are the values of the query's bound parameters.

    One statement: the page's keys are chosen, and counted, on the primary key alone (a window count beside each
    key, so page and total are one snapshot and one round trip; reads run in autocommit), and only the page's rows
    are read whole. Counting and sorting whole rows was most of a list's database time. A page past the end asks
    for the count alone. A query built once (bound parameters, as the hot lists are) gets its paged statement
    built once too."""
    values = {**(params or {}), LIMIT: page.limit, OFFSET: page.offset}
    paged, again = _paged_once(query)
    # A query seen before was built once: its statement is compiled once and read on the driver (read_rows); one
    # built per request goes through SQLAlchemy, whose compiled cache is then cheaper than compiling it anew.
    rows = await read_rows(db, paged, values) if again else list((await db.execute(paged, values)).all())
    if rows:
        total = int(rows[0][-1])
    elif page.offset == 0:
        total = 0
    else:
        count = sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
        total = int((await db.execute(count, values)).scalar_one())
    # The extra column is left on a row (mapping to domain objects takes the columns it knows); a single column
    # is handed back alone.
    return ([row[0] for row in rows] if len(query.selected_columns) == 1 else rows), total


LIMIT, OFFSET = "assay_page_limit", "assay_page_offset"


_PAGED: OrderedDict[sa.Select[Any], sa.Select[Any]] = OrderedDict()
_PAGED_SIZE = 256


def _paged_once(query: sa.Select[Any]) -> tuple[sa.Select[Any], bool]:
    """The paged statement of `query`, built once per query object (least recently used leave first), and whether
    it was built before."""
    paged = _PAGED.get(query)
    if paged is not None:
        _PAGED.move_to_end(query)
        return paged, True
    paged = _PAGED[query] = _paged(query)
    while len(_PAGED) > _PAGED_SIZE:
        _PAGED.popitem(last=False)
    return paged, False


def _paged(query: sa.Select[Any]) -> sa.Select[Any]:
    limit, offset = sa.bindparam(LIMIT, type_=sa.Integer), sa.bindparam(OFFSET, type_=sa.Integer)
    key = _primary_key(query) if len(query.selected_columns) > 1 else []
    if not key:
        return query.add_columns(sa.func.count().over().label(TOTAL)).limit(limit).offset(offset)
    chosen = (
        query.with_only_columns(*key, maintain_column_froms=True)
        .add_columns(sa.func.count().over().label(TOTAL))
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    on = sa.and_(*(column == chosen.c[column.name] for column in key))
    return query.join(chosen, on).add_columns(chosen.c[TOTAL])


def _primary_key(query: sa.Select[Any]) -> list[sa.Column[Any]]:
    """The primary key of the table the query's first column comes from (`get_final_froms` would compile the
    statement to tell, on every call)."""
    for source in query.columns_clause_froms:
        if isinstance(source, sa.Table):
            return list(source.primary_key.columns)
    return []
