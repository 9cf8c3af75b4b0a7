"""Every query of the traceability service; every read is scoped to the caller's organisation."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import utcnow
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


async def get_known_actor(db: AsyncSession, actor_id: UUID, *, org_id: str) -> KnownActorRow:
    row = await db.get(KnownActorRow, actor_id)
    if row is None or row.org_id != org_id:
        raise NotFound(f"actor {actor_id} is not known here")
    return row


async def list_known_actors(
    db: AsyncSession, *, org_id: str, status: str | None = None, limit: int = 100, offset: int = 0
) -> list[KnownActorRow]:
    query = sa.select(KnownActorRow).where(KnownActorRow.org_id == org_id)
    if status:
        query = query.where(KnownActorRow.kyc_status == status)
    query = query.order_by(KnownActorRow.legal_name, KnownActorRow.actor_id).limit(limit).offset(offset)
    return list((await db.execute(query)).scalars())


async def save_known_actor(db: AsyncSession, actor_id: UUID, *, org_id: str, version: int, **state: Any) -> None:
    """Insert, or overwrite a copy older than `version`; a copy at `version` or newer stays as it is. One statement,
    built once per dialect: read models are fed at event rate."""
    await db.execute(
        _upsert_statement(db.bind.dialect.name),
        {"actor_id": actor_id, "org_id": org_id, "version": version, "updated_at": utcnow(), **state},
    )


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
