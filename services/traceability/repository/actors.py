"""Traceability's copy of KYC actors, as stored; every read is scoped to the caller's organisation."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from libs.common.db import Executor, dialect_of, utcnow
from libs.common.errors import NotFound
from services.traceability.tables import KnownActorRow

# What an event about an actor sets in our copy (actor_id and org_id never change).
KNOWN_ACTOR_FIELDS = (
    "legal_name",
    "actor_type",
    "country",
    "region",
    "kyc_status",
    "risk_level",
    "version",
    "updated_at",
)


async def get_known_actor(db: Executor, actor_id: UUID, *, org_id: str) -> sa.Row[Any]:
    query = sa.select(KnownActorRow.__table__).where(KnownActorRow.__table__.c.actor_id == actor_id)
    row = (await db.execute(query)).one_or_none()
    if row is None or row.org_id != org_id:
        raise NotFound(f"actor {actor_id} is not known here")
    return row


async def list_known_actors(
    db: Executor, *, org_id: str, status: str | None = None, limit: int = 100, offset: int = 0
) -> list[sa.Row[Any]]:
    query = sa.select(KnownActorRow.__table__).where(KnownActorRow.org_id == org_id)
    if status:
        query = query.where(KnownActorRow.kyc_status == status)
    query = query.order_by(KnownActorRow.legal_name, KnownActorRow.actor_id).limit(limit).offset(offset)
    return list((await db.execute(query)).all())


async def save_known_actor(db: AsyncSession, actor_id: UUID, *, org_id: str, version: int, **state: Any) -> None:
    """Insert, or overwrite a copy older than `version`; a copy at `version` or newer stays as it is. One statement,
    built once per dialect: read models are fed at event rate."""
    await db.execute(
        _upsert_statement(dialect_of(db)),
        {"actor_id": actor_id, "org_id": org_id, "version": version, "updated_at": utcnow(), **state},
    )


# The consumer's copies staged in its transaction (actor id → the newest row seen), written by one statement.
_PENDING = "traceability_known_actors_pending"


def stage_known_actor(db: AsyncSession, actor_id: UUID, *, org_id: str, version: int, **state: Any) -> None:
    """save_known_actor for a batch of events in one transaction: the newest version of each actor is kept in the
    session and all of them are written by one executemany of the same guarded upsert, when the transaction
    commits (before, with flush_known_actors, if something in it reads the copies). A rolled-back transaction
    writes nothing, so the effect still commits with the inbox rows, once."""
    pending: dict[UUID, dict[str, Any]] = db.info.setdefault(_PENDING, {})
    staged = pending.get(actor_id)
    if staged is None or staged["version"] < version:
        pending[actor_id] = {
            "actor_id": actor_id,
            "org_id": org_id,
            "version": version,
            "updated_at": utcnow(),
            **state,
        }


async def flush_known_actors(db: AsyncSession) -> None:
    """Write the copies staged so far in this transaction."""
    rows = db.info.pop(_PENDING, None)
    if rows:
        await db.execute(_upsert_statement(dialect_of(db)), list(rows.values()))


@sa.event.listens_for(Session, "before_commit")
def _write_staged(session: Session) -> None:
    rows = session.info.pop(_PENDING, None)
    if rows:  # runs inside AsyncSession.commit's greenlet, like outbox's NOTIFY: the sync call awaits the driver
        session.execute(_upsert_statement(session.get_bind().dialect.name), list(rows.values()))


@sa.event.listens_for(Session, "after_rollback")
def _drop_staged(session: Session) -> None:
    session.info.pop(_PENDING, None)


@lru_cache(maxsize=2)
def _upsert_statement(dialect: str) -> sa.Executable:
    table = KnownActorRow.__table__
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values({name: sa.bindparam(name) for name in ("actor_id", "org_id", *KNOWN_ACTOR_FIELDS)})
    return statement.on_conflict_do_update(
        index_elements=["actor_id"],
        set_={name: statement.excluded[name] for name in KNOWN_ACTOR_FIELDS},
        where=table.c.version < statement.excluded.version,
    )
