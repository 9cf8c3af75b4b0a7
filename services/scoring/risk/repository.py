"""Every query of risk scores: versioned read models in, facts and lineage out, scores and their history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from libs.common.db import Executor, copy_rows, dialect_of, insert
from libs.common.errors import NotFound
from libs.common.staged import save_versioned_rows
from services.scoring.risk import domain
from services.scoring.risk.tables import (
    risk_actor,
    risk_anomaly,
    risk_assessment,
    risk_hit,
    risk_incident,
    risk_incident_link,
    risk_licence,
    risk_lot,
    risk_lot_holder,
    risk_lot_input,
    risk_lot_origin,
    risk_recompute_request,
    risk_score,
    risk_score_history,
    risk_site,
)


def among(db: Executor, column: sa.ColumnElement[Any], ids: Collection[UUID]) -> sa.ColumnElement[bool]:
    """`column IN ids`; on PostgreSQL `= ANY(array)`, one parameter: thousands of expanded parameters per batch
    were a third of a full recompute's time."""
    if dialect_of(db) == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(ids), type_=postgresql.ARRAY(sa.Uuid())))
    return column.in_(list(ids))


SCORES_LOCK = 0x5C0_2E5  # pg_advisory_xact_lock key: one transaction rescoring at a time


async def lock_scores(db: Executor) -> None:
    """Held to the end of the transaction. Rescoring reads facts other transactions (other partitions) may be
    changing; under the lock each one reads what every earlier rescoring committed, and whoever changed a fact
    later rescores what it touches, so no score is left computed from facts older than its inputs."""
    if dialect_of(db) == "postgresql":
        await db.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCORES_LOCK})


async def save_versioned(db: Executor, table: sa.Table, values: dict[str, Any]) -> bool:
    """Insert, or overwrite a row older than values["version"]; True when the row now reflects `values`."""
    return bool(await save_versioned_rows(db, table, [values]))


async def add_rows(db: Executor, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows that are not there yet (sets that only grow, e.g. a lot's holders)."""
    if rows:
        await db.execute(insert(dialect_of(db), table).values(rows).on_conflict_do_nothing())


async def replace_rows(db: Executor, table: sa.Table, *, key: str, value: UUID, rows: list[dict[str, Any]]) -> None:
    await db.execute(sa.delete(table).where(table.c[key] == value))
    if rows:
        await db.execute(sa.insert(table), rows)


# --- who is affected -------------------------------------------------------------------------------------------


async def operators_of(db: Executor, site_ids: Collection[UUID]) -> set[UUID]:
    if not site_ids:
        return set()
    query = sa.select(risk_site.c.operator_actor_id).where(
        among(db, risk_site.c.site_id, site_ids), risk_site.c.operator_actor_id.is_not(None)
    )
    return set((await db.execute(query)).scalars())


async def lots_downstream(
    db: Executor,
    *,
    lot_ids: Collection[UUID] = (),
    site_ids: Collection[UUID] = (),
    actor_ids: Collection[UUID] = (),
    max_depth: int = 64,
) -> set[UUID]:
    """The lots that are, hold, come from, or were made (recursively) from any of these: one recursive query."""
    parts: list[sa.Select[Any]] = []
    if lot_ids:
        parts.append(sa.select(risk_lot.c.lot_id).where(among(db, risk_lot.c.lot_id, lot_ids)))
    if site_ids:
        parts.append(sa.select(risk_lot_origin.c.lot_id).where(among(db, risk_lot_origin.c.site_id, site_ids)))
    if actor_ids:
        parts.append(sa.select(risk_lot_holder.c.lot_id).where(among(db, risk_lot_holder.c.actor_id, actor_ids)))
    if not parts:
        return set()
    start = sa.union(*parts).subquery()
    base = sa.select(start.c.lot_id, sa.literal(0).label("depth"))
    tree = base.cte("downstream", recursive=True)
    step = sa.select(risk_lot_input.c.lot_id, tree.c.depth + 1).where(
        risk_lot_input.c.input_lot_id == tree.c.lot_id, tree.c.depth < max_depth
    )
    tree = tree.union(step)
    return set((await db.execute(sa.select(tree.c.lot_id).distinct())).scalars())


def upstream_cte(db: Executor, lot_ids: Collection[UUID], *, max_depth: int) -> sa.CTE:
    """(root, lot): each root and every lot it was made from, recursively (UNION: a DAG, merges meet once)."""
    base = sa.select(risk_lot.c.lot_id.label("root"), risk_lot.c.lot_id.label("lot_id"), sa.literal(0).label("depth"))
    tree = base.where(among(db, risk_lot.c.lot_id, lot_ids)).cte("upstream", recursive=True)
    step = sa.select(tree.c.root, risk_lot_input.c.input_lot_id, tree.c.depth + 1).where(
        risk_lot_input.c.lot_id == tree.c.lot_id, tree.c.depth < max_depth
    )
    return tree.union(step)


async def lot_upstream(
    db: Executor, lot_ids: Collection[UUID], *, max_depth: int
) -> tuple[dict[UUID, list[domain.Upstream]], dict[UUID, list[domain.Incident]], dict[UUID, str]]:
    """Per lot: the current scores of the sites and actors upstream, the open incidents on it and its input lots,
    and its organisation. Three set-based statements over one recursive lineage."""
    tree = upstream_cte(db, lot_ids, max_depth=max_depth)
    lineage = sa.select(tree.c.root, tree.c.lot_id).distinct().cte("lineage")
    subjects = sa.union(
        sa.select(
            lineage.c.root, sa.literal(domain.SITE).label("subject_type"), risk_lot_origin.c.site_id.label("sid")
        ).join(risk_lot_origin, risk_lot_origin.c.lot_id == lineage.c.lot_id),
        sa.select(lineage.c.root, sa.literal(domain.ACTOR), risk_lot_holder.c.actor_id).join(
            risk_lot_holder, risk_lot_holder.c.lot_id == lineage.c.lot_id
        ),
    ).subquery()
    scores = sa.select(
        subjects.c.root, risk_score.c.subject_type, risk_score.c.subject_id, risk_score.c.score, risk_score.c.factors
    ).join(
        risk_score,
        sa.and_(risk_score.c.subject_type == subjects.c.subject_type, risk_score.c.subject_id == subjects.c.sid),
    )
    upstream: dict[UUID, list[domain.Upstream]] = defaultdict(list)
    for row in await db.execute(scores):
        upstream[row.root].append(
            domain.Upstream(row.subject_type, str(row.subject_id), row.score, _trigger_of(row.factors))
        )
    incidents: dict[UUID, list[domain.Incident]] = defaultdict(list)
    query = (
        sa.select(lineage.c.root, risk_incident.c.incident_id, risk_incident.c.level, risk_incident.c.event_id)
        .join(
            risk_incident_link,
            sa.and_(
                risk_incident_link.c.subject_id == lineage.c.lot_id, risk_incident_link.c.subject_type == domain.LOT
            ),
        )
        .join(
            risk_incident,
            sa.and_(risk_incident.c.incident_id == risk_incident_link.c.incident_id, risk_incident.c.is_open),
        )
        .distinct()
    )
    for row in await db.execute(query):
        incidents[row.root].append(domain.Incident(row.level, row.event_id))
    orgs = sa.select(risk_lot.c.lot_id, risk_lot.c.org_id).where(among(db, risk_lot.c.lot_id, lot_ids))
    return upstream, incidents, {row.lot_id: row.org_id for row in await db.execute(orgs)}


def _trigger_of(factors: list[dict[str, Any]]) -> str | None:
    """The event behind a score's largest contribution: what put that subject where it is."""
    sourced = [f for f in factors if f.get("source_event_id")]
    return max(sourced, key=lambda f: f["contribution"])["source_event_id"] if sourced else None


# --- facts -----------------------------------------------------------------------------------------------------


async def _incidents_of(db: Executor, subject_type: str, ids: Collection[UUID]) -> dict[UUID, list[domain.Incident]]:
    query = (
        sa.select(risk_incident_link.c.subject_id, risk_incident.c.level, risk_incident.c.event_id)
        .join(risk_incident, risk_incident.c.incident_id == risk_incident_link.c.incident_id)
        .where(
            risk_incident_link.c.subject_type == subject_type,
            among(db, risk_incident_link.c.subject_id, ids),
            risk_incident.c.is_open,
        )
    )
    found: dict[UUID, list[domain.Incident]] = defaultdict(list)
    for row in await db.execute(query):
        found[row.subject_id].append(domain.Incident(row.level, row.event_id))
    return found


async def _assessments_of(db: Executor, subject_type: str, ids: Collection[UUID]) -> dict[UUID, domain.Fact]:
    ranked = (
        sa.select(
            risk_assessment,
            sa.func.row_number()
            .over(
                partition_by=risk_assessment.c.subject_id,
                order_by=(
                    risk_assessment.c.assessed_on.desc().nulls_last(),
                    risk_assessment.c.reviewed_at.desc(),
                    risk_assessment.c.assessment_id.desc(),
                ),
            )
            .label("rank"),
        )
        .where(
            risk_assessment.c.subject_type == subject_type,
            among(db, risk_assessment.c.subject_id, ids),
            risk_assessment.c.self_assessment.is_(False),
        )
        .subquery()
    )
    rows = await db.execute(sa.select(ranked).where(ranked.c.rank == 1))
    return {row.subject_id: domain.Fact(row.outcome, row.event_id) for row in rows}


async def actor_facts(db: Executor, ids: Collection[UUID]) -> dict[UUID, tuple[str, domain.ActorFacts]]:
    """The facts of each actor we have a copy of, with its organisation."""
    facts: dict[UUID, tuple[str, domain.ActorFacts]] = {}
    for row in await db.execute(sa.select(risk_actor).where(among(db, risk_actor.c.actor_id, ids))):
        facts[row.actor_id] = (
            row.org_id,
            domain.ActorFacts(
                kyc_status=domain.Fact(row.kyc_status, row.event_id),
                kyc_risk_level=domain.Fact(row.risk_level, row.event_id) if row.risk_level else None,
                area_risk=domain.Fact("high" if row.high_risk_area else "standard", row.event_id),
            ),
        )
    if not facts:
        return facts
    hits = sa.select(risk_hit).where(among(db, risk_hit.c.actor_id, facts), risk_hit.c.confirmed)
    for row in await db.execute(hits):
        facts[row.actor_id][1].confirmed_hits.append(domain.Fact(str(row.hit_id), row.event_id))
    licences = sa.select(risk_licence).where(
        among(db, risk_licence.c.actor_id, facts), risk_licence.c.removed.is_(False)
    )
    for row in await db.execute(licences):
        facts[row.actor_id][1].licences.append(domain.Licence(row.valid_to, row.notice, row.event_id))
    for actor_id, incidents in (await _incidents_of(db, domain.ACTOR, list(facts))).items():
        facts[actor_id][1].incidents.extend(incidents)
    for actor_id, fact in (await _assessments_of(db, domain.ACTOR, list(facts))).items():
        facts[actor_id][1].assessment = fact
    return facts


async def site_facts(db: Executor, ids: Collection[UUID]) -> dict[UUID, tuple[str, domain.SiteFacts]]:
    facts: dict[UUID, tuple[str, domain.SiteFacts]] = {}
    for row in await db.execute(sa.select(risk_site).where(among(db, risk_site.c.site_id, ids))):
        facts[row.site_id] = (
            row.org_id,
            domain.SiteFacts(
                status=domain.Fact(row.status, row.event_id),
                area_risk=domain.Fact(row.area_risk, row.event_id) if row.area_risk else None,
            ),
        )
    if not facts:
        return facts
    anomalies = sa.select(risk_anomaly).where(among(db, risk_anomaly.c.site_id, facts))
    for row in await db.execute(anomalies):
        facts[row.site_id][1].anomalies.append(domain.Fact(row.kind, row.event_id))
    for site_id, incidents in (await _incidents_of(db, domain.SITE, list(facts))).items():
        facts[site_id][1].incidents.extend(incidents)
    for site_id, fact in (await _assessments_of(db, domain.SITE, list(facts))).items():
        facts[site_id][1].assessment = fact
    return facts


# --- scores ----------------------------------------------------------------------------------------------------


async def current_scores(db: Executor, subject_type: str, ids: Iterable[UUID]) -> dict[UUID, sa.Row[Any]]:
    query = sa.select(risk_score).where(
        risk_score.c.subject_type == subject_type, among(db, risk_score.c.subject_id, list(ids))
    )
    return {row.subject_id: row for row in await db.execute(query)}


async def save_scores(db: Executor, rows: list[dict[str, Any]]) -> None:
    """New versions of scores: the current row moves, and the history keeps each."""
    if not rows:
        return
    await copy_rows(db, risk_score, rows, upsert_keys=("subject_type", "subject_id"))
    await copy_rows(db, risk_score_history, rows)


async def update_factors(db: Executor, rows: list[dict[str, Any]]) -> None:
    """Same score and band, new explanation (e.g. a newer event set a factor to the same points)."""
    for row in rows:
        await db.execute(
            sa.update(risk_score)
            .where(risk_score.c.subject_type == row["subject_type"], risk_score.c.subject_id == row["subject_id"])
            .values(factors=row["factors"])
        )


async def get_score(
    db: Executor, subject_type: str, subject_id: UUID, *, org_id: str, at: datetime | None = None
) -> sa.Row[Any]:
    """The subject's score now, or the one in force at `at`; NotFound for another organisation's subject."""
    if at is None:
        query = sa.select(risk_score).where(
            risk_score.c.subject_type == subject_type, risk_score.c.subject_id == subject_id
        )
    else:
        query = (
            sa.select(risk_score_history)
            .where(
                risk_score_history.c.subject_type == subject_type,
                risk_score_history.c.subject_id == subject_id,
                risk_score_history.c.computed_at <= at,
            )
            .order_by(risk_score_history.c.version.desc())
            .limit(1)
        )
    row = (await db.execute(query)).first()
    if row is None or row.org_id != org_id:
        when = f" at {at.isoformat()}" if at else ""
        raise NotFound(f"no score of {subject_type} {subject_id}{when}", code="score_not_found")
    return row


def history_query() -> sa.Select[Any]:
    return (
        sa.select(risk_score_history)
        .where(
            risk_score_history.c.subject_type == sa.bindparam("subject_type"),
            risk_score_history.c.subject_id == sa.bindparam("subject_id"),
            risk_score_history.c.org_id == sa.bindparam("org_id"),
        )
        .order_by(risk_score_history.c.version.desc())
    )


async def all_ids(
    db: Executor, table: sa.Table, *, after: UUID | None, limit: int, org_id: str | None = None
) -> list[UUID]:
    key = next(iter(table.primary_key.columns))
    query = sa.select(key).order_by(key).limit(limit)
    if after is not None:
        query = query.where(key > after)
    if org_id is not None:
        query = query.where(table.c.org_id == org_id)
    return list((await db.execute(query)).scalars())


# --- recompute requests ----------------------------------------------------------------------------------------


async def save_recompute_request(db: Executor, values: dict[str, Any]) -> None:
    await db.execute(sa.insert(risk_recompute_request), values)


async def claim_recompute_request(db: Executor) -> sa.Row[Any] | None:
    """The oldest pending request, locked (another worker skips it)."""
    query = (
        sa.select(risk_recompute_request)
        .where(risk_recompute_request.c.finished_at.is_(None))
        .order_by(risk_recompute_request.c.requested_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return (await db.execute(query)).first()


async def finish_recompute_request(db: Executor, request_id: UUID, *, at: datetime, changed: dict[str, int]) -> None:
    await db.execute(
        sa.update(risk_recompute_request)
        .where(risk_recompute_request.c.request_id == request_id)
        .values(finished_at=at, changed=changed)
    )


async def get_recompute_request(db: Executor, request_id: UUID, *, org_id: str) -> sa.Row[Any]:
    query = sa.select(risk_recompute_request).where(risk_recompute_request.c.request_id == request_id)
    row = (await db.execute(query)).first()
    if row is None or row.org_id != org_id:
        raise NotFound(f"no recompute request {request_id}", code="recompute_request_not_found")
    return row
