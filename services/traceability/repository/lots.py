"""Lots, lineage edges, holders and tags as stored; every read is scoped to the caller's organisation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import Executor, dialect_of, insert, write_rows
from libs.common.errors import NotFound
from services.traceability.tables.custody import CustodyEventLotRow, CustodyEventRow
from services.traceability.tables.lots import LotHolderRow, LotInputRow, LotRow, TagRow

Lots = LotRow.__table__
Inputs = LotInputRow.__table__
Holders = LotHolderRow.__table__
Tags = TagRow.__table__
Events = CustodyEventRow.__table__
EventLots = CustodyEventLotRow.__table__
RECEIVING_KINDS = ("transfer_confirmed", "receipt")
MAX_DEPTH = 64  # no real chain is this deep; the bound keeps a corrupt cycle from running away


class _Float8(sa.TypeDecorator[float]):
    """A float column as read on the driver: asyncpg hands float8 back as a Python float already (SQLAlchemy's
    Float would need the column's driver type to pick a processor, so write_rows would leave the statement to it)."""

    impl = sa.Float
    cache_ok = True

    def result_processor(self, dialect: sa.Dialect, coltype: object) -> None:
        return None


# The lot's columns as the write path reads them (floats as _Float8), under their own names.
LOT_COLUMNS = [
    sa.type_coerce(column, _Float8()).label(column.name) if isinstance(column.type, sa.Float) else column
    for column in Lots.c
]
# The statements of every custody write, built once with bound parameters: run on the driver (write_rows), they
# skip SQLAlchemy's per-execution work (cache key, compiled lookup, result set-up), most of a write's CPU.
_LOT_FOR_UPDATE = (
    sa.select(*LOT_COLUMNS)
    .where(Lots.c.lot_id == sa.bindparam("p_lot_id"), Lots.c.org_id == sa.bindparam("p_org_id"))
    .with_for_update()
)
_ADD_HOLDER = {
    dialect: insert(dialect, Holders)
    .values(lot_id=sa.bindparam("p_lot_id"), actor_id=sa.bindparam("p_actor_id"))
    .on_conflict_do_nothing()
    for dialect in ("postgresql", "sqlite")
}
_INPUT_IDS = sa.select(Inputs.c.input_lot_id).where(Inputs.c.lot_id == sa.bindparam("p_lot_id"))


@lru_cache(maxsize=64)
def _update_statement(columns: tuple[str, ...]) -> sa.Update:
    values = {name: sa.bindparam(f"p_{name}", type_=Lots.c[name].type) for name in columns}
    return (
        sa.update(Lots)
        .where(Lots.c.lot_id == sa.bindparam("p_key"))
        .values(version=Lots.c.version + 1, **values)
        .returning(*LOT_COLUMNS)
    )


async def get_lot(db: Executor, lot_id: UUID, *, org_id: str, for_update: bool = False) -> sa.Row[Any]:
    if for_update:
        found = await write_rows(db, _LOT_FOR_UPDATE, {"p_lot_id": lot_id, "p_org_id": org_id})
        row = found[0] if found else None
    else:
        query = sa.select(Lots).where(Lots.c.lot_id == lot_id, Lots.c.org_id == org_id)
        row = (await db.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"lot {lot_id} not found", code="lot_not_found")
    return row


async def get_lots_for_update(db: AsyncSession, lot_ids: list[UUID], *, org_id: str) -> list[sa.Row[Any]]:
    """The lots in id order (a stable lock order, so two transformations sharing inputs cannot deadlock)."""
    ordered = sorted(set(lot_ids), key=str)
    query = sa.select(Lots).where(Lots.c.lot_id.in_(ordered), Lots.c.org_id == org_id).with_for_update()
    rows = {row.lot_id: row for row in (await db.execute(query.order_by(Lots.c.lot_id))).all()}
    missing = [lot for lot in ordered if lot not in rows]
    if missing:
        raise NotFound(f"lot {missing[0]} not found", code="lot_not_found")
    return [rows[lot] for lot in lot_ids]


async def insert_lot(db: AsyncSession, values: dict[str, Any], *, input_lot_ids: Iterable[UUID] = ()) -> sa.Row[Any]:
    """Insert the lot (and its input edges); returns the stored row."""
    row = (await db.execute(sa.insert(Lots).values(**values).returning(*Lots.c))).one()
    edges = [{"lot_id": values["lot_id"], "input_lot_id": lot} for lot in set(input_lot_ids)]
    if edges:
        await db.execute(sa.insert(Inputs), edges)
    return row


async def update_lot(db: AsyncSession, lot_id: UUID, **values: Any) -> Any:
    """Update the lot, one version higher; returns the row as it is now (what its next event shows)."""
    params = {f"p_{name}": value for name, value in values.items()} | {"p_key": lot_id}
    (row,) = await write_rows(db, _update_statement(tuple(values)), params)
    return row


async def add_holder(db: AsyncSession, lot_id: UUID, actor_id: UUID) -> None:
    await write_rows(db, _ADD_HOLDER[dialect_of(db)], {"p_lot_id": lot_id, "p_actor_id": actor_id})


async def has_held(db: Executor, lot_id: UUID, actor_id: UUID) -> bool:
    query = sa.select(Holders.c.lot_id).where(Holders.c.lot_id == lot_id, Holders.c.actor_id == actor_id)
    return (await db.execute(query)).first() is not None


async def input_ids(db: Executor, lot_id: UUID) -> list[UUID]:
    return [row[0] for row in await write_rows(db, _INPUT_IDS, {"p_lot_id": lot_id})]


def _walk(lot_id: UUID, *, org_id: str, direction: str, include_self: bool = False) -> sa.CTE:
    """The lineage CTE: (lot_id, depth) of every lot upstream (`up`) or downstream (`down`) of `lot_id`, at every
    depth it is reached (UNION over the indexed edge table, bounded by MAX_DEPTH); with `include_self`, the lot
    itself at depth 0 (when it is `org_id`'s)."""
    near, far = (
        (Inputs.c.lot_id, Inputs.c.input_lot_id) if direction == "up" else (Inputs.c.input_lot_id, Inputs.c.lot_id)
    )
    if include_self:
        seed = sa.select(Lots.c.lot_id.label("lot_id"), sa.literal(0).label("depth"))
        seed = seed.where(Lots.c.lot_id == lot_id, Lots.c.org_id == org_id)
    else:
        seed = sa.select(far.label("lot_id"), sa.literal(1).label("depth")).where(near == lot_id)
    walk = seed.cte("walk", recursive=True)
    step = sa.select(far.label("lot_id"), (walk.c.depth + 1).label("depth")).where(
        near == walk.c.lot_id, walk.c.depth < MAX_DEPTH
    )
    return walk.union(step)


async def lineage(db: Executor, lot_id: UUID, *, org_id: str, direction: str) -> list[sa.Row[Any]]:
    """Every lot upstream (`up`: what it was made from) or downstream (`down`: what was made from it) of `lot_id`,
    each at its least depth."""
    walk = _walk(lot_id, org_id=org_id, direction=direction)
    nearest = sa.select(walk.c.lot_id, sa.func.min(walk.c.depth).label("depth")).group_by(walk.c.lot_id).subquery()
    query = (
        sa.select(Lots, nearest.c.depth)
        .join(nearest, nearest.c.lot_id == Lots.c.lot_id)
        .where(Lots.c.org_id == org_id)
        .order_by(nearest.c.depth, Lots.c.lot_id)
    )
    return list((await db.execute(query)).all())


async def held_or_upstream_of_held(db: Executor, lot_id: UUID, *, org_id: str, actor_id: UUID) -> bool:
    """True when `actor_id` holds or held `lot_id`, or a lot made from it (at any depth): one query, walking down
    from the lot and looking for the actor among the holders."""
    walk = _walk(lot_id, org_id=org_id, direction="down", include_self=True)
    held = sa.exists().where(Holders.c.lot_id == walk.c.lot_id, Holders.c.actor_id == actor_id)
    return bool((await db.execute(sa.select(held))).scalar_one())


async def held_among(db: Executor, lot_ids: Iterable[UUID], *, actor_id: UUID) -> set[UUID]:
    ids = list(set(lot_ids))
    if not ids:
        return set()
    query = sa.select(Holders.c.lot_id).where(Holders.c.lot_id.in_(ids), Holders.c.actor_id == actor_id)
    return set((await db.execute(query)).scalars())


async def edges_into(db: Executor, lot_ids: Iterable[UUID]) -> list[tuple[UUID, UUID]]:
    """(lot_id, input_lot_id) of every edge whose made lot is one of `lot_ids`."""
    ids = list(set(lot_ids))
    if not ids:
        return []
    query = sa.select(Inputs.c.lot_id, Inputs.c.input_lot_id).where(Inputs.c.lot_id.in_(ids))
    return [(row.lot_id, row.input_lot_id) for row in await db.execute(query)]


async def find_tag(db: Executor, tag: str, *, for_update: bool = False) -> sa.Row[Any] | None:
    query = sa.select(Tags).where(Tags.c.tag == tag)
    if for_update:
        query = query.with_for_update()
    return (await db.execute(query)).one_or_none()


async def insert_tags(db: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Insert the tags not issued yet; returns how many were new."""
    statement = insert(dialect_of(db), Tags).on_conflict_do_nothing(index_elements=["tag"])
    result = await db.execute(statement.returning(Tags.c.tag), rows)
    return len(result.all())


async def use_tag(db: AsyncSession, tag: str, lot_id: UUID) -> None:
    await db.execute(sa.update(Tags).where(Tags.c.tag == tag).values(lot_id=lot_id))


async def produced_kg_between(db: Executor, site_id: UUID, *, org_id: str, start: datetime, end: datetime) -> float:
    """Mass of the mine lots created at `site_id` in [start, end)."""
    query = sa.select(sa.func.coalesce(sa.func.sum(Lots.c.mass_kg), 0.0)).where(
        Lots.c.org_id == org_id, Lots.c.site_id == site_id, Lots.c.produced_at >= start, Lots.c.produced_at < end
    )
    return float((await db.execute(query)).scalar_one())


async def lots_received_by(
    db: Executor, actor_id: UUID, *, org_id: str, start: datetime, end: datetime
) -> list[sa.Row[Any]]:
    """The lots `actor_id` received in [start, end): a confirmed transfer to it, or its receipt at the smelter; each
    with its mineral, origin sites and the first and last such event (first_at, last_at)."""
    body = sa.cast(Events.c.body, sa.JSON)
    receiver = sa.case(
        (Events.c.kind == "receipt", body["actor_id"].as_string()), else_=body["to_actor_id"].as_string()
    )
    received = (
        sa.select(
            EventLots.c.lot_id,
            sa.func.min(Events.c.recorded_at).label("first_at"),
            sa.func.max(Events.c.recorded_at).label("last_at"),
        )
        .join(Events, Events.c.event_id == EventLots.c.event_id)
        .where(
            Events.c.org_id == org_id,
            Events.c.kind.in_(RECEIVING_KINDS),
            EventLots.c.role == "subject",
            Events.c.recorded_at >= start,
            Events.c.recorded_at < end,
            receiver == str(actor_id),
        )
        .group_by(EventLots.c.lot_id)
        .subquery()
    )
    query = (
        sa.select(Lots.c.lot_id, Lots.c.mineral, Lots.c.origin_site_ids, received.c.first_at, received.c.last_at)
        .join(received, received.c.lot_id == Lots.c.lot_id)
        .where(Lots.c.org_id == org_id)
    )
    return list((await db.execute(query)).all())


async def public_tag_status(db: Executor, tag: str) -> str | None:
    """What the public tag check may tell: None for a tag never issued, `unused`, or the lot's public status."""
    query = (
        sa.select(Tags.c.tag, Lots.c.status, Lots.c.blocked_reasons)
        .select_from(Tags.outerjoin(Lots, Lots.c.lot_id == Tags.c.lot_id))
        .where(Tags.c.tag == tag)
    )
    row = (await db.execute(query)).one_or_none()
    if row is None:
        return None
    if row.status is None:
        return "unused"
    return public_status(row.status, row.blocked_reasons)


def public_status(status: str, blocked_reasons: list[str] | None) -> str:
    """The status a lot shows: `blocked` over active or in transit while any reason holds; consumed stays."""
    return "blocked" if blocked_reasons and status != "consumed" else status
