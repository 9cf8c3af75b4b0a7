"""Traceability's copy of KYC actors, as stored; every read is scoped to the caller's organisation."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import Executor, utcnow
from libs.common.errors import NotFound
from libs.common.staged import StagedCopies, save_versioned_rows
from services.traceability.tables import KnownActorRow


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
    await save_versioned_rows(
        db,
        KnownActorRow.__table__,
        [{"actor_id": actor_id, "org_id": org_id, "version": version, "updated_at": utcnow(), **state}],
    )


# The consumer's copies staged in its transaction (libs.common.staged): the newest row of each actor, written by one
# executemany of the same guarded upsert when the transaction commits (before, with flush_known_actors, if
# something in it reads the copies).
_STAGED = StagedCopies(KnownActorRow.__table__)


def stage_known_actor(db: AsyncSession, actor_id: UUID, *, org_id: str, version: int, **state: Any) -> None:
    """save_known_actor for a batch of events in one transaction."""
    _STAGED.stage(db, {"actor_id": actor_id, "org_id": org_id, "version": version, "updated_at": utcnow(), **state})


async def flush_known_actors(db: AsyncSession) -> None:
    """Write the copies staged so far in this transaction."""
    await _STAGED.flush(db)
