"""Lots, lineage edges, holders and tags as stored; every read is scoped to the caller's organisation."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import DriverRow, Executor, copy_rows, dialect_of, fetch_sql, insert, write_rows
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
INPUTS = "input_lot_ids"  # the lot's input ids, read with it on the write path (PostgreSQL)
LOCKED = "traceability.lots_locked"  # session info: the lots this transaction holds locked (keep_locked)
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
# On PostgreSQL a write also reads the lot's input ids with it (what its next lot event shows): one round trip
# less than reading them apart (`input_ids`) in every custody write.
_INPUT_IDS_OF_LOT = sa.func.coalesce(
    sa.select(sa.func.array_agg(Inputs.c.input_lot_id))
    .where(Inputs.c.lot_id == Lots.c.lot_id)
    .correlate(Lots)
    .scalar_subquery(),
    sa.literal_column("'{}'::uuid[]"),
)
_WRITE_COLUMNS = {
    "postgresql": [*LOT_COLUMNS, sa.type_coerce(_INPUT_IDS_OF_LOT, postgresql.ARRAY(sa.Uuid())).label(INPUTS)],
    "sqlite": LOT_COLUMNS,
}
# The statements of every custody write, built once with bound parameters: run on the driver (write_rows), they
# skip SQLAlchemy's per-execution work (cache key, compiled lookup, result set-up), most of a write's CPU.
_LOT_FOR_UPDATE = {
    dialect: sa.select(*columns)
    .where(Lots.c.lot_id == sa.bindparam("p_lot_id"), Lots.c.org_id == sa.bindparam("p_org_id"))
    .with_for_update()
    for dialect, columns in _WRITE_COLUMNS.items()
}
# A batch locks every lot it names at its start, in id order (one statement; two batches sharing lots cannot
# deadlock on them): PostgreSQL only.
_LOTS_FOR_UPDATE = (
    sa.select(*_WRITE_COLUMNS["postgresql"])
    .where(
        Lots.c.lot_id == sa.any_(sa.bindparam("p_ids", type_=postgresql.ARRAY(sa.Uuid()))),
        Lots.c.org_id == sa.bindparam("p_org_id"),
    )
    .order_by(Lots.c.lot_id)
    .with_for_update()
)
_ADD_HOLDER = {
    dialect: insert(dialect, Holders)
    .values(lot_id=sa.bindparam("p_lot_id"), actor_id=sa.bindparam("p_actor_id"))
    .on_conflict_do_nothing()
    for dialect in ("postgresql", "sqlite")
}
_INPUT_IDS = sa.select(Inputs.c.input_lot_id).where(Inputs.c.lot_id == sa.bindparam("p_lot_id"))
_INSERT_LOT = {
    dialect: sa.insert(Lots)
    .values({column.name: sa.bindparam(f"p_{column.name}", type_=column.type) for column in Lots.c})
    .returning(*columns)
    for dialect, columns in _WRITE_COLUMNS.items()
}
_INSERT_DEFAULTS: dict[str, Any] = {f"p_{column.name}": None for column in Lots.c} | {"p_blocked_reasons": []}
_COLUMN_NAMES = tuple(column.name for column in Lots.c)
_COPY_DEFAULTS: dict[str, Any] = {name: None for name in _COLUMN_NAMES} | {"blocked_reasons": []}
_FLOAT_COLUMNS = tuple(column.name for column in Lots.c if isinstance(column.type, sa.Float))
# A transformation's outputs (what differs between them as arrays, the rest shared), their input edges and their
# first holder: one statement, one round trip, whatever the count.
_PER_OUTPUT = ("lot_id", "tag", "form", "mass", "unit", "mass_kg", "grade_pct", "site_id", "place")
_INSERT_OUTPUTS = """
WITH made AS (
    INSERT INTO lot (lot_id, tag, form, mass, unit, mass_kg, grade_pct, site_id, place, org_id, mineral, hs_code,
                     origin_site_ids, producer_actor_id, custodian_actor_id, status, country, produced_at,
                     created_at, version, blocked_reasons)
    SELECT o.*, $10, $11, $12, $13::text::json, $14, $15, $16, $17, $18, $19, $20, $23::text::json
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::float8[], $5::text[], $6::float8[], $7::float8[],
                $8::uuid[], $9::text[]) AS o
    RETURNING lot_id
), edges AS (
    INSERT INTO lot_input (lot_id, input_lot_id)
    SELECT made.lot_id, input.id FROM made CROSS JOIN unnest($21::uuid[]) AS input(id)
)
INSERT INTO lot_holder (lot_id, actor_id) SELECT made.lot_id, $22 FROM made
"""
_CONSUME = (
    sa.update(Lots)
    .where(Lots.c.lot_id == sa.any_(sa.bindparam("p_ids", type_=postgresql.ARRAY(sa.Uuid()))))
    .values(status="consumed", version=Lots.c.version + 1)
    .returning(*_WRITE_COLUMNS["postgresql"])
)


@lru_cache(maxsize=64)
def _update_statement(columns: tuple[str, ...], dialect: str) -> sa.Update:
    values = {name: sa.bindparam(f"p_{name}", type_=Lots.c[name].type) for name in columns}
    return (
        sa.update(Lots)
        .where(Lots.c.lot_id == sa.bindparam("p_key"))
        .values(version=Lots.c.version + 1, **values)
        .returning(*_WRITE_COLUMNS[dialect])
    )


def _locked(db: Executor) -> dict[UUID, Any] | None:
    """The rows of the lots this transaction holds locked, by id, as it wrote them last; in a session that keeps
    them (`keep_locked`), else None."""
    return db.info.get(LOCKED) if isinstance(db, AsyncSession) else None


def keep_locked(db: AsyncSession) -> dict[UUID, Any]:
    """From now on in this session's transaction, lots read FOR UPDATE, inserted or updated here are kept as this
    transaction last wrote them, and a read FOR UPDATE of one of them is answered from there: the row is locked
    until the transaction ends, so only this transaction changes it, and every change it makes goes through
    `update_lot` / `insert_lot` (or `forget`). The caller restores the dict itself when it rolls a savepoint back."""
    locked: dict[UUID, Any] = {}
    db.info[LOCKED] = locked
    return locked


def forget(db: Executor, lot_id: UUID) -> None:
    """A lot changed by a statement that did not return it: read it again the next time."""
    locked = _locked(db)
    if locked is not None:
        locked.pop(lot_id, None)


async def lock_lots(db: AsyncSession, lot_ids: Iterable[UUID], *, org_id: str) -> None:
    """Lock `lot_ids` (those of `org_id` that exist) in id order, kept (`keep_locked`); PostgreSQL only."""
    locked = _locked(db)
    ids = sorted(set(lot_ids) - set(locked or ()), key=str)
    if locked is None or not ids or dialect_of(db) != "postgresql":
        return
    for row in await write_rows(db, _LOTS_FOR_UPDATE, {"p_ids": ids, "p_org_id": org_id}):
        locked[row.lot_id] = row


def inputs_of(row: Any) -> list[UUID] | None:
    """The input ids read with the lot (PostgreSQL's write path), or None where they were not."""
    found = getattr(row, INPUTS, None) if isinstance(row, DriverRow) else None
    return None if found is None else list(found)


async def get_lot(db: Executor, lot_id: UUID, *, org_id: str, for_update: bool = False) -> sa.Row[Any]:
    if for_update:
        locked = _locked(db)
        if locked is not None and lot_id in locked:
            return locked[lot_id]
        found = await write_rows(db, _LOT_FOR_UPDATE[dialect_of(db)], {"p_lot_id": lot_id, "p_org_id": org_id})
        row = found[0] if found else None
        if row is not None and locked is not None:
            locked[lot_id] = row
    else:
        query = sa.select(Lots).where(Lots.c.lot_id == lot_id, Lots.c.org_id == org_id)
        row = (await db.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"lot {lot_id} not found", code="lot_not_found")
    return row


async def get_lots_for_update(db: AsyncSession, lot_ids: list[UUID], *, org_id: str) -> list[sa.Row[Any]]:
    """The lots in id order (a stable lock order, so two transformations sharing inputs cannot deadlock)."""
    ordered = sorted(set(lot_ids), key=str)
    locked = _locked(db)
    if locked is not None and all(lot in locked for lot in ordered):
        return [locked[lot] for lot in lot_ids]
    if dialect_of(db) == "postgresql":
        found = await write_rows(db, _LOTS_FOR_UPDATE, {"p_ids": ordered, "p_org_id": org_id})
        rows = {row.lot_id: row for row in found}
    else:
        query = sa.select(Lots).where(Lots.c.lot_id.in_(ordered), Lots.c.org_id == org_id).with_for_update()
        rows = {row.lot_id: row for row in (await db.execute(query.order_by(Lots.c.lot_id))).all()}
    missing = [lot for lot in ordered if lot not in rows]
    if missing:
        raise NotFound(f"lot {missing[0]} not found", code="lot_not_found")
    if locked is not None:
        locked.update(rows)
    return [rows[lot] for lot in lot_ids]


async def insert_lot(db: AsyncSession, values: dict[str, Any], *, input_lot_ids: Iterable[UUID] = ()) -> sa.Row[Any]:
    """Insert the lot (and its input edges); returns the stored row. `values` name every column but
    the pending transfer's and blocked_reasons (a new lot has none until `blocking.refresh` says otherwise)."""
    dialect = dialect_of(db)
    params = _INSERT_DEFAULTS | {f"p_{name}": value for name, value in values.items()}
    (row,) = await write_rows(db, _INSERT_LOT[dialect], params)
    edges = [{"lot_id": values["lot_id"], "input_lot_id": lot} for lot in set(input_lot_ids)]
    if edges:
        await copy_rows(db, Inputs, edges)
        if dialect == "postgresql":  # returned before its edges were written: the row names them now
            row = DriverRow({**row._mapping, INPUTS: [edge["input_lot_id"] for edge in edges]})
    locked = _locked(db)
    if locked is not None:
        locked[row.lot_id] = row
    return row


async def insert_lots(
    db: AsyncSession, rows: list[dict[str, Any]], *, input_lot_ids: Iterable[UUID], holder: UUID
) -> list[Any]:
    """Insert lots made of the same inputs (a transformation's outputs), their input edges and `holder` as each
    one's first holder; returns the stored rows. On PostgreSQL one statement whatever the count (three COPYs
    should the outputs differ in more than `_PER_OUTPUT`), and the rows as stored are the values given (the
    columns `insert_lot` takes; floats as floats)."""
    inputs = list(dict.fromkeys(input_lot_ids))
    if dialect_of(db) != "postgresql":
        created = [await insert_lot(db, values, input_lot_ids=inputs) for values in rows]
        for values in rows:
            await add_holder(db, values["lot_id"], holder)
        return created
    full = [_COPY_DEFAULTS | values for values in rows]
    for values in full:
        for name in _FLOAT_COLUMNS:
            if values[name] is not None:
                values[name] = float(values[name])
    shared = {name for name in _COLUMN_NAMES if name not in _PER_OUTPUT}
    pending = ("pending_to_actor_id", "pending_event_id", "pending_mass_kg")  # not in the statement: NULL
    same = all(values[name] == full[0][name] for values in full[1:] for name in shared)
    if same and all(full[0][name] is None for name in pending):
        first = full[0]
        per_output = [[values[name] for values in full] for name in _PER_OUTPUT]
        await fetch_sql(
            db, _INSERT_OUTPUTS, *per_output, first["org_id"], first["mineral"], first["hs_code"],
            json.dumps(first["origin_site_ids"]), first["producer_actor_id"], first["custodian_actor_id"],
            first["status"], first["country"], first["produced_at"], first["created_at"], first["version"], inputs,
            holder, json.dumps(first["blocked_reasons"]),
        )  # fmt: skip
    else:
        await copy_rows(db, Lots, full)
        await copy_rows(db, Inputs, [{"lot_id": v["lot_id"], "input_lot_id": lot} for v in full for lot in inputs])
        await copy_rows(db, Holders, [{"lot_id": v["lot_id"], "actor_id": holder} for v in full])
    created = [DriverRow({name: values[name] for name in _COLUMN_NAMES} | {INPUTS: inputs}) for values in full]
    locked = _locked(db)
    if locked is not None:
        locked.update((row.lot_id, row) for row in created)
    return created


async def consume_lots(db: AsyncSession, lot_ids: list[UUID]) -> list[Any]:
    """Mark the lots consumed, each one version higher (one statement on PostgreSQL); rows as they are now, in
    the order given."""
    if dialect_of(db) != "postgresql":
        return [await update_lot(db, lot_id, status="consumed") for lot_id in lot_ids]
    found = {row.lot_id: row for row in await write_rows(db, _CONSUME, {"p_ids": list(lot_ids)})}
    locked = _locked(db)
    if locked is not None:
        locked.update(found)
    return [found[lot_id] for lot_id in lot_ids]


async def update_lot(db: AsyncSession, lot_id: UUID, **values: Any) -> Any:
    """Update the lot, one version higher; returns the row as it is now (what its next event shows)."""
    params = {f"p_{name}": value for name, value in values.items()} | {"p_key": lot_id}
    (row,) = await write_rows(db, _update_statement(tuple(values), dialect_of(db)), params)
    locked = _locked(db)
    if locked is not None:
        locked[lot_id] = row
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
