"""Keeping traceability's copies of KYC sites, incidents and scores: newest version wins, older ones change nothing."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events.incidents import IncidentState
from libs.common.events.kyc import MineSiteState
from libs.common.events.scoring import ScoreChanged
from services.traceability.repository import read_models as repository


async def record_site(db: AsyncSession, site: MineSiteState, *, version: int) -> bool:
    values = {
        "site_id": site.site_id, "org_id": site.org_id, "name": site.name, "country": site.country,
        "region": site.region, "status": site.status, "capacity_kg_per_month": site.capacity_kg_per_month,
        "latitude": site.latitude, "longitude": site.longitude, "version": version,
    }  # fmt: skip
    return await repository.save_versioned(db, repository.Sites, values)


async def record_incident(db: AsyncSession, incident: IncidentState, *, version: int) -> bool:
    values = {
        "incident_id": incident.incident_id, "org_id": incident.org_id, "level": incident.level,
        "status": incident.status, "category": incident.category, "reference": incident.reference,
        "actor_ids": [str(x) for x in incident.actor_ids],
        "site_ids": [str(x) for x in incident.site_ids], "lot_ids": [str(x) for x in incident.lot_ids],
        "version": version,
    }  # fmt: skip
    return await repository.save_versioned(db, repository.Incidents, values)


def record_score(db: AsyncSession, event: ScoreChanged) -> None:
    """Staged in the transaction, written with the batch's other scores at its commit: nothing reads them before."""
    values = {
        "subject_id": event.subject_id, "subject_type": event.subject_type, "org_id": event.org_id,
        "score": event.score, "band": event.band, "version": event.aggregate_version,
        "factors": [factor.model_dump() for factor in event.factors], "computed_at": event.computed_at,
    }  # fmt: skip
    repository.stage_score(db, values)
