"""Risk scores: record what other services tell us, recompute the subjects it affects, publish what changed."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from libs.common import bus, outbox, telemetry
from libs.common.db import copy_rows, utcnow
from libs.common.events.base import new_event_id
from libs.common.events.incidents import IncidentState
from libs.common.events.kyc import ActorState, LicenceState, MineSiteState
from libs.common.events.scoring import ScoreChanged
from libs.common.events.traceability import LotState
from libs.common.staged import StagedCopies
from libs.common.tables import OutboxMessageRow
from services.scoring.risk import domain, repository
from services.scoring.risk import weights as weights_file
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
    risk_site,
)

BULK_OUTBOX = 50


@dataclass
class Affected:
    """The subjects whose score may have moved."""

    actors: set[UUID] = field(default_factory=set)
    sites: set[UUID] = field(default_factory=set)
    lots: set[UUID] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.actors or self.sites or self.lots)

    def add(self, other: Affected) -> None:
        self.actors |= other.actors
        self.sites |= other.sites
        self.lots |= other.lots


# --- read models -----------------------------------------------------------------------------------------------


def _actor_row(actor: ActorState, *, version: int, event_id: str | None) -> dict[str, Any]:
    return {
        "actor_id": actor.actor_id,
        "org_id": actor.org_id,
        "kyc_status": actor.kyc_status,
        "risk_level": actor.risk_level,
        "high_risk_area": "high_risk_area" in actor.risk_factors,
        "country": actor.country,
        "region": actor.region,
        "version": version,
        "event_id": event_id,
    }


async def record_actor(db: AsyncSession, actor: ActorState, *, version: int, event_id: str | None) -> Affected:
    applied = await repository.save_versioned(db, risk_actor, _actor_row(actor, version=version, event_id=event_id))
    return Affected(actors={actor.actor_id}) if applied else Affected()


_ACTORS = StagedCopies(risk_actor)  # actor id → the newest copy the transaction's events brought


def stage_actor(db: AsyncSession, actor: ActorState, *, version: int, event_id: str | None) -> None:
    """record_actor, then recompute_at_commit of what it affected, for the consumer's batch: the newest copy of
    each actor is kept in the session and all of them are written by one executemany of the same guarded upsert
    after the transaction's last event, just before the rescoring (as traceability stages its actor copies). The
    actors it wrote are the ones rescored. Nothing in a handler reads risk_actor; a copy written directly in the
    same transaction (record_hit) meets the staged one under the same version guard, so the newest wins either
    way."""
    _ACTORS.stage(db, _actor_row(actor, version=version, event_id=event_id))
    bus.finish_with(db, _rescore_staged)


async def record_hit(
    db: AsyncSession, actor: ActorState, *, hit_id: UUID, confirmed: bool, version: int, event_id: str | None
) -> Affected:
    affected = await record_actor(db, actor, version=version, event_id=event_id)
    values = {"hit_id": hit_id, "org_id": actor.org_id, "actor_id": actor.actor_id, "confirmed": confirmed}
    if await repository.save_versioned(db, risk_hit, {**values, "version": version, "event_id": event_id}):
        affected.actors.add(actor.actor_id)
    return affected


async def record_licence(
    db: AsyncSession,
    actor: ActorState,
    *,
    licence_id: UUID,
    valid_to: Any,
    notice: str | None,
    removed: bool,
    version: int,
    event_id: str | None,
) -> Affected:
    affected = await record_actor(db, actor, version=version, event_id=event_id)
    values = {
        "licence_id": licence_id,
        "org_id": actor.org_id,
        "actor_id": actor.actor_id,
        "valid_to": valid_to,
        "notice": notice,
        "removed": removed,
        "version": version,
        "event_id": event_id,
    }
    if await repository.save_versioned(db, risk_licence, values):
        affected.actors.add(actor.actor_id)
    return affected


async def record_licence_change(
    db: AsyncSession,
    actor: ActorState,
    licence: LicenceState | None,
    *,
    part_id: UUID | None,
    action: str,
    version: int,
    event_id: str | None,
) -> Affected:
    licence_id = licence.licence_id if licence else part_id
    if licence_id is None:
        return await record_actor(db, actor, version=version, event_id=event_id)
    return await record_licence(
        db,
        actor,
        licence_id=licence_id,
        valid_to=licence.valid_to if licence else None,
        notice=None,
        removed=action == "removed",
        version=version,
        event_id=event_id,
    )


async def record_site(db: AsyncSession, site: MineSiteState, *, version: int, event_id: str | None) -> Affected:
    values = {
        "site_id": site.site_id,
        "org_id": site.org_id,
        "operator_actor_id": site.operator_actor_id,
        "status": site.status,
        "area_risk": site.area_risk,
        "version": version,
        "event_id": event_id,
    }
    if not await repository.save_versioned(db, risk_site, values):
        return Affected()
    return Affected(sites={site.site_id}, actors={site.operator_actor_id} if site.operator_actor_id else set())


async def record_incident(db: AsyncSession, incident: IncidentState, *, version: int, event_id: str | None) -> Affected:
    """A newer state replaces the links too; subjects linked before or after are both affected."""
    before = await _incident_links(db, incident.incident_id)
    values = {
        "incident_id": incident.incident_id,
        "org_id": incident.org_id,
        "level": incident.level,
        "status": incident.status,
        "is_open": incident.status not in domain.CLOSED_INCIDENT,
        "version": version,
        "event_id": event_id,
    }
    if not await repository.save_versioned(db, risk_incident, values):
        return Affected()
    links = [(domain.ACTOR, i) for i in incident.actor_ids] + [(domain.SITE, i) for i in incident.site_ids]
    links += [(domain.LOT, i) for i in incident.lot_ids]
    rows = [{"incident_id": incident.incident_id, "subject_type": t, "subject_id": i} for t, i in set(links)]
    await repository.replace_rows(db, risk_incident_link, key="incident_id", value=incident.incident_id, rows=rows)
    affected = Affected()
    for subject_type, subject_id in before | set(links):
        {domain.ACTOR: affected.actors, domain.SITE: affected.sites, domain.LOT: affected.lots}[subject_type].add(
            subject_id
        )
    affected.actors |= await repository.operators_of(db, affected.sites)
    return affected


async def _incident_links(db: AsyncSession, incident_id: UUID) -> set[tuple[str, UUID]]:
    query = sa.select(risk_incident_link.c.subject_type, risk_incident_link.c.subject_id).where(
        risk_incident_link.c.incident_id == incident_id
    )
    return {(row.subject_type, row.subject_id) for row in await db.execute(query)}


async def record_anomaly(
    db: AsyncSession, *, anomaly_id: UUID, org_id: str, kind: str, site_ids: list[UUID], event_id: str | None
) -> Affected:
    rows = [
        {"anomaly_id": anomaly_id, "site_id": s, "org_id": org_id, "kind": kind, "event_id": event_id} for s in site_ids
    ]
    await repository.add_rows(db, risk_anomaly, rows)
    return Affected(sites=set(site_ids), actors=await repository.operators_of(db, site_ids))


async def record_lot(
    db: AsyncSession, lot: LotState, *, version: int, event_id: str | None, holders: Iterable[UUID | None] = ()
) -> Affected:
    """The lot's inputs and origins as its newest state says; every actor seen holding it is kept."""
    held = {a for a in (lot.producer_actor_id, lot.custodian_actor_id, *holders) if a is not None}
    await repository.add_rows(db, risk_lot_holder, [{"lot_id": lot.lot_id, "actor_id": a} for a in held])
    applied = await repository.save_versioned(
        db, risk_lot, {"lot_id": lot.lot_id, "org_id": lot.org_id, "version": version, "event_id": event_id}
    )
    if applied:
        inputs = [{"lot_id": lot.lot_id, "input_lot_id": i} for i in set(lot.input_lot_ids) if i != lot.lot_id]
        origins = [{"lot_id": lot.lot_id, "site_id": s} for s in set(lot.origin_site_ids)]
        await repository.replace_rows(db, risk_lot_input, key="lot_id", value=lot.lot_id, rows=inputs)
        await repository.replace_rows(db, risk_lot_origin, key="lot_id", value=lot.lot_id, rows=origins)
    return Affected(lots={lot.lot_id}) if applied or held else Affected()


async def record_assessment(
    db: AsyncSession,
    *,
    assessment_id: UUID,
    org_id: str,
    subject_type: str,
    subject_id: UUID,
    outcome: str,
    self_assessment: bool,
    reviewed_at: datetime,
    event_id: str | None,
    assessed_on: date | None = None,
) -> Affected:
    values = {
        "assessment_id": assessment_id,
        "org_id": org_id,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "outcome": outcome,
        "self_assessment": self_assessment,
        "reviewed_at": reviewed_at,
        "assessed_on": assessed_on or reviewed_at.date(),
        "event_id": event_id,
    }
    await repository.add_rows(db, risk_assessment, [values])
    if subject_type == domain.ACTOR:
        return Affected(actors={subject_id})
    return Affected(sites={subject_id}) if subject_type == domain.SITE else Affected()


# --- recomputing -----------------------------------------------------------------------------------------------

_AFFECTED = "scoring_risk_affected"  # the subjects the transaction's events affected so far


def recompute_at_commit(db: AsyncSession, affected: Affected) -> None:
    """recompute, once for every event of the consumer's transaction: the subjects affected by any of them are
    rescored after the last one, from the facts as they all left them. A score is a function of the facts alone,
    so each ends as one recompute per event would leave it; a subject whose score moved gets one ScoreChanged for
    the batch (from its score before the batch to the one after: the next version), not one per event, and one
    whose events took it back where it was gets none. The risk_score lock is then held only for the rescoring at
    the end, not from the batch's first event on."""
    if affected:
        db.info.setdefault(_AFFECTED, Affected()).add(affected)
        bus.finish_with(db, _rescore_staged)


async def _rescore_staged(db: AsyncSession) -> None:
    """The transaction's end (bus.finish): write the staged actor copies, then rescore everything affected."""
    affected: Affected = db.info.pop(_AFFECTED, None) or Affected()
    affected.actors |= await _ACTORS.flush(db)
    if affected:
        await recompute(db, affected)


@sa.event.listens_for(Session, "after_rollback")
def _drop_staged(session: Session) -> None:
    session.info.pop(_AFFECTED, None)  # (the staged actor copies drop themselves)


async def recompute(db: AsyncSession, affected: Affected, *, now: datetime | None = None) -> int:
    """Rescore the affected actors and sites, then every lot downstream of any of them; returns how many scores
    changed (each one a ScoreChanged in the outbox)."""
    if not affected:
        return 0
    now = now or utcnow()
    weights = weights_file.load()
    await repository.lock_scores(db)
    changed = await rescore_actors(db, affected.actors, weights=weights, now=now)
    changed += await rescore_sites(db, affected.sites, weights=weights, now=now)
    lots = await repository.lots_downstream(
        db, lot_ids=affected.lots, site_ids=affected.sites, actor_ids=affected.actors, max_depth=weights.lot.max_depth
    )
    return changed + await rescore_lots(db, lots, weights=weights, now=now)


async def rescore_actors(
    db: AsyncSession, ids: Collection[UUID], *, weights: weights_file.Weights, now: datetime
) -> int:
    if not ids:
        return 0
    facts = await repository.actor_facts(db, ids)
    scores = {i: (org, domain.score_actor(f, weights, today=now.date())) for i, (org, f) in facts.items()}
    return await _publish(db, domain.ACTOR, scores, weights=weights, now=now)


async def rescore_sites(
    db: AsyncSession, ids: Collection[UUID], *, weights: weights_file.Weights, now: datetime
) -> int:
    if not ids:
        return 0
    facts = await repository.site_facts(db, ids)
    scores = {i: (org, domain.score_site(f, weights)) for i, (org, f) in facts.items()}
    return await _publish(db, domain.SITE, scores, weights=weights, now=now)


async def rescore_lots(db: AsyncSession, ids: Collection[UUID], *, weights: weights_file.Weights, now: datetime) -> int:
    if not ids:
        return 0
    upstream, incidents, orgs = await repository.lot_upstream(db, ids, max_depth=weights.lot.max_depth)
    scores = {
        lot: (org, domain.score_lot(upstream.get(lot, []), incidents.get(lot, []), weights))
        for lot, org in orgs.items()
    }
    return await _publish(db, domain.LOT, scores, weights=weights, now=now)


async def _publish(
    db: AsyncSession,
    subject_type: str,
    scores: dict[UUID, tuple[str, domain.Score]],
    *,
    weights: weights_file.Weights,
    now: datetime,
) -> int:
    """Store a new version and tell the others only when score or band moved; a new explanation alone is kept
    silently."""
    current = await repository.current_scores(db, subject_type, scores)
    moved, explained = [], []
    for subject_id, (org_id, score) in scores.items():
        before = current.get(subject_id)
        factors = [domain.as_dict(f) for f in score.factors]
        row = {"subject_type": subject_type, "subject_id": subject_id, "factors": factors}
        if before is not None and not score.differs_from(before.score, before.band):
            if before.factors != factors:
                explained.append(row)
            continue
        moved.append(
            {
                **row,
                "org_id": org_id,
                "version": (before.version if before else 0) + 1,
                "score": score.score,
                "band": score.band,
                "weights_version": weights.version,
                "computed_at": now,
                "previous": before,
            }
        )
    await repository.update_factors(db, explained)
    await repository.save_scores(db, [{k: v for k, v in m.items() if k != "previous"} for m in moved])
    await _stage(db, [_score_changed(subject_type, item, weights=weights) for item in moved])
    return len(moved)


def _score_changed(subject_type: str, item: dict[str, Any], *, weights: weights_file.Weights) -> ScoreChanged:
    before = item["previous"]
    return ScoreChanged(
        org_id=item["org_id"],
        subject_type=subject_type,
        subject_id=item["subject_id"],
        aggregate_version=item["version"],
        score=item["score"],
        band=item["band"],
        previous_score=before.score if before else None,
        previous_band=before.band if before else None,
        factors=item["factors"],  # the dicts stored with the score, validated into ScoreFactor
        weights_version=weights.version,
        computed_at=item["computed_at"],
    )


async def _stage(db: AsyncSession, events: list[ScoreChanged]) -> None:
    """outbox.add for a few; a full recompute stages thousands per batch, as one multi-row insert of the same rows
    (the ORM's unit of work was most of its time)."""
    if len(events) <= BULK_OUTBOX:
        for event in events:
            outbox.add(db, event, key=event.subject_id)
        return
    outbox.add(db, events[0], key=events[0].subject_id)  # also wakes the relay when the transaction commits
    now, traceparent = utcnow(), telemetry.current_traceparent()
    rows = [
        {
            "event_id": new_event_id(),
            "topic": event.topic,
            "key": str(event.subject_id),
            "event_type": event.event_type(),
            "payload": event.model_dump_json(),
            "bucket": outbox.bucket_of(str(event.subject_id)),
            "occurred_at": now,
            "traceparent": traceparent,
        }
        for event in events[1:]
    ]
    await copy_rows(db, OutboxMessageRow.__table__, rows)  # type: ignore[arg-type]


# --- full recompute on request ---------------------------------------------------------------------------------


async def request_recompute(db: AsyncSession, *, org_id: str, requested_by: str) -> dict[str, Any]:
    values = {"request_id": uuid4(), "org_id": org_id, "requested_by": requested_by, "requested_at": utcnow()}
    await repository.save_recompute_request(db, values)
    return {**values, "finished_at": None, "changed": None}
