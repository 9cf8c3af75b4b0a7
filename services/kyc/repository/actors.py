"""Actors as the register stores them: owners read their register, grantees only what was shared with them; a save
writes the actor and takes the numbers of its next events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import search
from libs.common.db import Executor, dialect_of, insert, read_rows, write_rows
from libs.common.errors import Conflict, Forbidden, NotFound
from libs.common.pagination import Pagination, fetch_page
from services.kyc.domain.actors import Actor
from services.kyc.domain.workflow import Status
from services.kyc.repository.rows import column_values, from_row, unique_violation
from services.kyc.tables.register import ActorRow, ActorShareRow

Actors = ActorRow.__table__
Shares = ActorShareRow.__table__
KEPT_ON_SAVE = ("id", "org_id", "created_by", "created_at")  # written once, by the first save
# What a grantee of a shared actor is told when it asks for what the share does not give: a change (READ_ONLY_SHARE),
# or a part other than the actor's record and licences (NOT_SHARED).
READ_ONLY_SHARE, NOT_SHARED = "read_only_share", "not_shared"


@dataclass(frozen=True)
class ActorFilter:
    kyc_status: str | None = None
    actor_type: str | None = None
    country: str | None = None
    region: str | None = None
    risk_level: str | None = None
    mineral: str | None = None
    name: str | None = None


def _not_found(actor_id: UUID) -> NotFound:
    return NotFound(f"actor {actor_id} not found", code="actor_not_found")


async def get_actor(
    db: Executor, actor_id: UUID, *, org_id: str, for_update: bool = False, if_shared: str = READ_ONLY_SHARE
) -> Actor:
    """An actor of the caller's own register. `for_update` locks it to the end of the transaction: a change reads
    what the previous writer committed, and the state its events tell is the state that commits. An actor only
    shared with the caller's organisation answers 403 `if_shared` (it may read the actor, not this); else 404."""
    actor = await find_actor(db, actor_id, org_id=org_id, for_update=for_update)
    if actor is None:
        raise await not_owned(db, actor_id, org_id=org_id, if_shared=if_shared)
    return actor


async def not_owned(db: Executor, actor_id: UUID, *, org_id: str, if_shared: str = READ_ONLY_SHARE) -> Exception:
    """Why the caller's organisation may not have this actor as its own: 403 for a grantee, 404 for anyone else."""
    if not await is_shared_with(db, actor_id, org_id=org_id):
        return _not_found(actor_id)
    if if_shared == READ_ONLY_SHARE:
        return Forbidden(
            f"actor {actor_id} is shared with your organisation to read; only its owner changes it",
            code=READ_ONLY_SHARE,
        )
    return Forbidden(
        f"actor {actor_id} is shared with your organisation for its record and licences only", code=NOT_SHARED
    )


async def is_shared_with(db: Executor, actor_id: UUID, *, org_id: str) -> bool:
    query = sa.select(Shares.c.actor_id).where(Shares.c.actor_id == actor_id, Shares.c.grantee_org_id == org_id)
    return (await db.execute(query)).first() is not None


async def find_actor(db: Executor, actor_id: UUID, *, org_id: str, for_update: bool = False) -> Actor | None:
    statements = _statements(dialect_of(db))
    params = {"actor_id": actor_id, "org_id": org_id}
    if not for_update:
        rows = await read_rows(db, statements.own, params)
        return _actor(rows[0]) if rows else None
    # The lock first, then the shares: a statement that waited for the lock still reads its subqueries in the
    # snapshot it started with, and would miss a share the previous holder committed.
    locked = (await db.execute(statements.own_for_update, params)).one_or_none()
    if locked is None:
        return None
    grantees = (await db.execute(statements.grantees, params)).scalars().all()
    return _actor(locked, grantees=grantees)


def _visible_to(org_id: str | sa.BindParameter[str]) -> sa.ColumnElement[bool]:
    shared = sa.select(Shares.c.actor_id).where(Shares.c.grantee_org_id == org_id)
    return sa.or_(Actors.c.org_id == org_id, Actors.c.id.in_(shared))


async def get_visible_actor(db: Executor, actor_id: UUID, *, org_id: str) -> Actor:
    """An actor the caller's organisation owns or was shared with."""
    return _actor(await get_visible_actor_row(db, actor_id, org_id=org_id))


async def get_visible_actor_row(db: Executor, actor_id: UUID, *, org_id: str) -> Any:
    """The row of `get_visible_actor`, unmapped (a read answers straight from it)."""
    query = _statements(dialect_of(db)).visible
    rows = await read_rows(db, query, {"actor_id": actor_id, "org_id": org_id})
    if not rows:
        raise _not_found(actor_id)
    return rows[0]


@dataclass(frozen=True)
class _Statements:
    own: sa.Select[Any]
    own_for_update: sa.Select[Any]
    visible: sa.Select[Any]
    grantees: sa.Select[Any]
    save: sa.Executable


@cache
def _statements(dialect: str) -> _Statements:
    """The statements of the hot paths, built once per dialect with bound parameters: building and caching a
    statement on each call was about a third of a read's CPU and nearly half of a registration's."""
    actor_id, org_id = sa.bindparam("actor_id"), sa.bindparam("org_id")
    one = _select_actors(dialect).where(Actors.c.id == actor_id)
    own = one.where(Actors.c.org_id == org_id)
    columns = [c.name for c in Actors.columns if c.name != "event_seq"]
    insert_ = insert(dialect, Actors).values({name: sa.bindparam(name) for name in [*columns, "event_seq"]})
    save = insert_.on_conflict_do_update(
        index_elements=[Actors.c.id],
        set_={
            **{name: insert_.excluded[name] for name in columns if name not in KEPT_ON_SAVE},
            "event_seq": Actors.c.event_seq + insert_.excluded.event_seq,
        },
    ).returning(Actors.c.event_seq)
    return _Statements(
        own=own,
        # FOR NO KEY UPDATE: rows referencing the actor may still be added
        own_for_update=sa.select(Actors)
        .where(Actors.c.id == actor_id, Actors.c.org_id == org_id)
        .with_for_update(key_share=True),
        visible=one.where(_visible_to(org_id)),
        grantees=sa.select(Shares.c.grantee_org_id).where(Shares.c.actor_id == actor_id),
        save=save,
    )


def _select_actors(dialect: str) -> sa.Select[Any]:
    """Actors with the organisations each is shared with, in one statement."""
    return sa.select(Actors, _grantees(dialect))


def _grantees(dialect: str) -> sa.Label[Any]:
    if dialect == "postgresql":
        aggregate: sa.ColumnElement[Any] = sa.func.array_agg(Shares.c.grantee_org_id)
    else:
        aggregate = sa.type_coerce(sa.func.json_group_array(Shares.c.grantee_org_id), sa.JSON)
    return sa.select(aggregate).where(Shares.c.actor_id == Actors.c.id).scalar_subquery().label(GRANTEES)


GRANTEES = "assay_grantees"


def _actor(row: sa.Row[Any], *, grantees: Sequence[str] | None = None) -> Actor:
    """The actor of a row; its grantees from the row's aggregate unless given."""
    mapping = row._mapping
    shared_with = sorted(mapping[GRANTEES] or () if grantees is None else grantees)
    return from_row(Actor, row, kyc_status=Status(mapping["kyc_status"]), shared_with=shared_with)


async def list_actors(db: Executor, *, org_id: str, where: ActorFilter, page: Pagination) -> tuple[list[Actor], int]:
    rows, total = await _list_rows(db, org_id=org_id, where=where, page=page, whole=True)
    return [_actor(r) for r in rows], total


async def list_actor_rows(db: Executor, *, org_id: str, where: ActorFilter, page: Pagination) -> tuple[list[Any], int]:
    """The rows of `list_actors`, unmapped, with the columns an answer shows (`ActorRead`'s fields are columns): a
    list answers straight from them. Not the organisations each is shared with (a subquery per row), its search
    text nor its event numbers, which no answer shows: they were a quarter of a list's database time."""
    return await _list_rows(db, org_id=org_id, where=where, page=page, whole=False)


async def _list_rows(
    db: Executor, *, org_id: str, where: ActorFilter, page: Pagination, whole: bool
) -> tuple[list[Any], int]:
    dialect = dialect_of(db)
    if where.name is None:  # the statement of these filters, built once with bound parameters
        filters = tuple(name for name in _EQUAL if getattr(where, name) is not None)
        params: dict[str, Any] = {name: getattr(where, name) for name in filters}
        params["org_id"] = org_id
        if where.mineral:
            params["mineral"] = _quoted(where.mineral)
        return await fetch_page(db, _list_statement(dialect, filters, bool(where.mineral), whole), page, params)
    query = (
        _listed(dialect, whole)
        .where(_visible_to(org_id), *_conditions(where))
        .order_by(Actors.c.legal_name, Actors.c.id)
    )
    return await fetch_page(db, query, page)


_EQUAL = ("kyc_status", "actor_type", "country", "region", "risk_level")
# Columns of an actor's row no answer shows (a list's rows are answered from as they are).
_NOT_SHOWN = frozenset({"search_text", "event_seq", "overdue_notified_for"})


def _listed(dialect: str, whole: bool) -> sa.Select[Any]:
    if whole:
        return _select_actors(dialect)
    return sa.select(*(column for column in Actors.columns if column.name not in _NOT_SHOWN))


@cache
def _list_statement(dialect: str, filters: tuple[str, ...], mineral: bool, whole: bool) -> sa.Select[Any]:
    """The list of actors visible to `org_id` with these equality filters (and a mineral), built once: building
    and compiling it per request was a sixth of a list's CPU."""
    conditions = [Actors.c[name] == sa.bindparam(name) for name in filters]
    if mineral:
        conditions.append(sa.cast(Actors.c.minerals, sa.Text).contains(sa.bindparam("mineral", type_=sa.Text)))
    return (
        _listed(dialect, whole)
        .where(_visible_to(sa.bindparam("org_id")), *conditions)
        .order_by(Actors.c.legal_name, Actors.c.id)
    )


def _quoted(mineral: str) -> str:
    # HS codes are digits only, so the quoted code matches one whole list element.
    return f'"{mineral}"'


def _conditions(where: ActorFilter) -> list[sa.ColumnElement[bool]]:
    conditions = [
        column == value
        for column, value in (
            (Actors.c.kyc_status, where.kyc_status),
            (Actors.c.actor_type, where.actor_type),
            (Actors.c.country, where.country),
            (Actors.c.region, where.region),
            (Actors.c.risk_level, where.risk_level),
        )
        if value is not None
    ]
    if where.mineral:
        conditions.append(sa.cast(Actors.c.minerals, sa.Text).contains(_quoted(where.mineral)))
    if where.name:  # accents and case ignored; a registration number matches however it is punctuated
        conditions.append(search.matches(Actors.c.search_text, where.name))
    return conditions


def search_text(actor: Actor) -> str:
    """What a name query searches: the legal name, the aliases and the registration number, folded."""
    identifiers = [actor.registration_number] if actor.registration_number else []
    return search.search_text([actor.legal_name, *actor.aliases], identifiers=identifiers)


async def list_overdue(
    db: AsyncSession, *, org_id: str, statuses: frozenset[str], today: date, page: Pagination
) -> tuple[list[Actor], int]:
    query = (
        _select_actors(dialect_of(db))
        .where(Actors.c.org_id == org_id, Actors.c.kyc_status.in_(statuses), Actors.c.next_review_date < today)
        .order_by(Actors.c.next_review_date, Actors.c.id)
    )
    rows, total = await fetch_page(db, query, page)
    return [_actor(r) for r in rows], total


async def list_assessed_for_update(db: AsyncSession, *, org_id: str, statuses: frozenset[str]) -> list[Actor]:
    """The organisation's actors in `statuses` that carry a risk level, locked in actor order (every worker locks
    actors in that order): a change of the risk table re-assesses them."""
    query = (
        sa.select(Actors)
        .where(Actors.c.org_id == org_id, Actors.c.kyc_status.in_(statuses), Actors.c.risk_level.is_not(None))
        .order_by(Actors.c.id)
        .with_for_update(key_share=True)
    )
    return await _locked_actors(db, list((await db.execute(query)).all()))


async def _locked_actors(db: Executor, rows: Sequence[sa.Row[Any]]) -> list[Actor]:
    """Actors of rows just locked, with their grantees read after the lock (see find_actor)."""
    grantees: dict[UUID, list[str]] = {}
    if rows:
        query = sa.select(Shares.c.actor_id, Shares.c.grantee_org_id).where(Shares.c.actor_id.in_([r.id for r in rows]))
        for actor_id, grantee in (await db.execute(query)).all():
            grantees.setdefault(actor_id, []).append(grantee)
    return [_actor(r, grantees=grantees.get(r.id, [])) for r in rows]


async def claim_overdue_unannounced(
    db: AsyncSession, *, statuses: frozenset[str], today: date, limit: int
) -> list[Actor]:
    """Overdue actors (every organisation) not yet announced for their current review date, locked; those another
    transaction holds are left for the next run."""
    query = (
        _select_actors(dialect_of(db))
        .where(
            Actors.c.kyc_status.in_(statuses),
            Actors.c.next_review_date < today,
            sa.or_(Actors.c.overdue_notified_for.is_(None), Actors.c.overdue_notified_for != Actors.c.next_review_date),
        )
        .order_by(Actors.c.next_review_date, Actors.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True, key_share=True)
    )
    return [_actor(r) for r in (await db.execute(query)).all()]


async def save_actor(db: AsyncSession, actor: Actor, *, events: int) -> int:
    """Write the actor and take the numbers of its next `events` events; returns the last one taken. The write holds
    the row lock to the end of the transaction, so numbers only grow in commit order."""
    values = {**column_values(actor, Actors), "search_text": search_text(actor), "event_seq": events}
    try:
        return (await db.execute(_statements(dialect_of(db)).save, values)).scalar_one()
    except IntegrityError as exc:
        if unique_violation(exc) == "uq_actor_registration":
            raise Conflict(
                f"registration number {actor.registration_number} is already registered in {actor.country}",
                code="duplicate_registration",
            ) from exc
        raise


async def insert_actor(
    db: Executor, actor: Actor, *, events: int, beside: Sequence[tuple[sa.Table, dict[str, Any]]] = ()
) -> None:
    """Write a new actor holding the numbers of its first `events` events (1 to `events`), and the rows that come
    with it (`beside`: its history entry, its screening request, its outbox rows), in one statement on PostgreSQL,
    atomic on its own (libs.common.db.DbStatement) or a step of the caller's transaction. A registration was six
    round trips (BEGIN, the actor's upsert, the ORM's flush of its entry and outbox row, the request's upsert,
    COMMIT) and the ORM's unit of work. A plain INSERT, not save_actor's upsert: the actor is new, so an id already
    taken fails instead of overwriting that actor."""
    rows = [(Actors, {**column_values(actor, Actors), "search_text": search_text(actor), "event_seq": events})]
    rows += beside
    try:
        if dialect_of(db) != "postgresql":  # SQLite writes no rows in a WITH clause: one statement each
            await _insert_each(db, rows)
            return
        shape = tuple((table, tuple(values)) for table, values in rows)
        params = {_param(i, name): value for i, (_, values) in enumerate(rows) for name, value in values.items()}
        await write_rows(db, _insert_all(shape), params)
    except Exception as exc:  # SQLAlchemy's IntegrityError, or the driver's own error (write_rows runs on it)
        constraint = unique_violation(exc)
        if constraint == "uq_actor_registration":
            raise Conflict(
                f"registration number {actor.registration_number} is already registered in {actor.country}",
                code="duplicate_registration",
            ) from exc
        if constraint is not None:  # as the service's IntegrityError handler answers a unique violation
            raise Conflict("the change conflicts with existing data") from exc
        raise


async def _insert_each(db: Executor, rows: list[tuple[sa.Table, dict[str, Any]]]) -> None:
    """The rows one statement each, in one transaction: the caller's, else one of their own."""
    if isinstance(db, AsyncSession) or db.in_transaction():
        for table, values in rows:
            await db.execute(sa.insert(table), values)
        return
    async with db.begin():
        for table, values in rows:
            await db.execute(sa.insert(table), values)


def _param(row: int, column: str) -> str:
    return f"r{row}_{column}"


@lru_cache(maxsize=64)
def _insert_all(shape: tuple[tuple[sa.Table, tuple[str, ...]], ...]) -> sa.Executable:
    """INSERT of the first row, the others' INSERTs in its WITH clause: one statement, built once per shape with
    bound parameters. PostgreSQL checks foreign keys at the statement's end, so rows referencing the first hold."""
    inserts = [
        sa.insert(table).values({name: sa.bindparam(_param(i, name), type_=table.c[name].type) for name in columns})
        for i, (table, columns) in enumerate(shape)
    ]
    first, *others = inserts
    return first.add_cte(*(insert_.cte(f"beside_{i}") for i, insert_ in enumerate(others, start=1)))


async def take_event_numbers(db: AsyncSession, actor_id: UUID, *, events: int = 1) -> int:
    """Only the numbers, for events that tell nothing of the actor's state (a document filed under it)."""
    query = (
        sa.update(Actors)
        .where(Actors.c.id == actor_id)
        .values(event_seq=Actors.c.event_seq + events)
        .returning(Actors.c.event_seq)
    )
    return (await db.execute(query)).scalar_one()
