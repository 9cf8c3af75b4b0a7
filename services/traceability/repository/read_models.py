"""Traceability's copies of KYC sites, incidents and scores: each moves only forward (newer version wins)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import Executor, dialect_of, utcnow, write_rows
from libs.common.staged import StagedCopies, save_versioned_rows
from services.traceability.tables.actors import KnownActorRow, KnownIncidentRow, KnownScoreRow, KnownSiteRow

Actors = KnownActorRow.__table__
Sites = KnownSiteRow.__table__
Incidents = KnownIncidentRow.__table__
Scores = KnownScoreRow.__table__
OPEN_INCIDENT_STATUSES = ("reported", "triage", "verified", "mitigation", "resolved")
BLOCKING_INCIDENT_STATUSES = ("verified", "mitigation")  # a verified level-1 incident blocks until it is closed


async def save_versioned(db: Executor, table: sa.Table, values: dict[str, Any]) -> bool:
    """Insert, or overwrite a copy older than values["version"]; an equal or newer copy stays. True if written."""
    return bool(await save_versioned_rows(db, table, [{**values, "updated_at": utcnow()}]))


# Scores arrive at event rate and nothing in the consumer's transaction reads them: staged, written at its commit.
_STAGED_SCORES = StagedCopies(Scores)


def stage_score(db: AsyncSession, values: dict[str, Any]) -> None:
    """save_versioned of a score, for the consumer's batch (libs.common.staged)."""
    _STAGED_SCORES.stage(db, {**values, "updated_at": utcnow()})


# Built once, for the write path (every custody write checks its actors): one array parameter, not an IN list.
_ACTORS_ANY = sa.select(Actors).where(
    Actors.c.actor_id == sa.any_(sa.bindparam("p_ids", type_=postgresql.ARRAY(sa.Uuid()))),
    Actors.c.org_id == sa.bindparam("p_org_id"),
)


async def actors_by_id(db: Executor, actor_ids: Iterable[UUID], *, org_id: str) -> dict[UUID, Any]:
    ids = list(set(actor_ids))
    if not ids:
        return {}
    if isinstance(db, AsyncSession) and dialect_of(db) == "postgresql":
        return {row.actor_id: row for row in await write_rows(db, _ACTORS_ANY, {"p_ids": ids, "p_org_id": org_id})}
    rows = await db.execute(sa.select(Actors).where(Actors.c.actor_id.in_(ids), Actors.c.org_id == org_id))
    return {row.actor_id: row for row in rows}


async def sites_by_id(db: Executor, site_ids: Iterable[UUID], *, org_id: str) -> dict[UUID, sa.Row[Any]]:
    ids = list(set(site_ids))
    if not ids:
        return {}
    rows = await db.execute(sa.select(Sites).where(Sites.c.site_id.in_(ids), Sites.c.org_id == org_id))
    return {row.site_id: row for row in rows}


_SITES_WITH_STATUS = sa.select(Sites.c.site_id).where(
    Sites.c.org_id == sa.bindparam("p_org_id"),
    Sites.c.status == sa.any_(sa.bindparam("p_statuses", type_=postgresql.ARRAY(sa.String()))),
)
_BLOCKING_INCIDENTS = sa.select(Incidents).where(
    Incidents.c.org_id == sa.bindparam("p_org_id"),
    Incidents.c.status
    == sa.any_(sa.bindparam("p_statuses", list(BLOCKING_INCIDENT_STATUSES), type_=postgresql.ARRAY(sa.String()))),
    Incidents.c.level == 1,
)


def _on_driver(db: Executor) -> bool:
    """A write session on PostgreSQL: statements built once run on the driver there (write_rows)."""
    return isinstance(db, AsyncSession) and dialect_of(db) == "postgresql"


async def site_ids_with_status(db: Executor, statuses: Iterable[str], *, org_id: str) -> list[UUID]:
    if _on_driver(db):
        found = await write_rows(db, _SITES_WITH_STATUS, {"p_org_id": org_id, "p_statuses": list(statuses)})
        return [row.site_id for row in found]
    query = sa.select(Sites.c.site_id).where(Sites.c.org_id == org_id, Sites.c.status.in_(list(statuses)))
    return list((await db.execute(query)).scalars())


async def get_incident(db: Executor, incident_id: UUID) -> sa.Row[Any] | None:
    return (await db.execute(sa.select(Incidents).where(Incidents.c.incident_id == incident_id))).one_or_none()


async def list_open_incidents(db: Executor, *, org_id: str, blocking_only: bool = False) -> list[sa.Row[Any]]:
    if blocking_only and _on_driver(db):
        return await write_rows(db, _BLOCKING_INCIDENTS, {"p_org_id": org_id})
    statuses = BLOCKING_INCIDENT_STATUSES if blocking_only else OPEN_INCIDENT_STATUSES
    query = sa.select(Incidents).where(Incidents.c.org_id == org_id, Incidents.c.status.in_(statuses))
    if blocking_only:
        query = query.where(Incidents.c.level == 1)
    return list((await db.execute(query)).all())


async def scores_by_id(db: Executor, subject_ids: Iterable[UUID], *, org_id: str) -> dict[UUID, sa.Row[Any]]:
    ids = list(set(subject_ids))
    if not ids:
        return {}
    rows = await db.execute(sa.select(Scores).where(Scores.c.subject_id.in_(ids), Scores.c.org_id == org_id))
    return {row.subject_id: row for row in rows}
