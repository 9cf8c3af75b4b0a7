"""What KYC tells the others: every event stamped with the next version of the aggregate it is keyed by, and the
events of actors and sites with that aggregate's state after the change, built here and nowhere else."""
from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import outbox
from libs.common.events.kyc import ActorState, DocumentUploaded, KycEvent, LicenceState, MineSiteState
from services.kyc.domain.sites import MineSite, StatusChange
from services.kyc.repository import actors as actor_repository
from services.kyc.repository import shares as share_repository
from services.kyc.repository import sites as site_repository
from services.kyc.tables.register import ActorRow, DocumentRow, LicenceRow


async def actor_event(db: AsyncSession, actor: ActorRow, event_class: type[KycEvent], **fields: Any) -> None:
    """Stage an event keyed by the actor: its next version, and its state as stored once that version is taken.
    `actor` may have been read before another writer committed; the state is the row read back, ours included."""
    row = await actor_repository.next_event(db, actor.id)
    outbox.add(db, event_class(org_id=row.org_id, actor_id=row.id, aggregate_version=row.event_seq,
                               actor=await actor_state(db, row), **fields), key=row.id)


async def actor_state(db: AsyncSession, row: ActorRow) -> ActorState:
    return ActorState(
        actor_id=row.id, org_id=row.org_id, actor_type=row.actor_type, legal_name=row.legal_name,
        registration_number=row.registration_number, country=row.country, region=row.region,
        minerals=list(row.minerals), smelter_facility_id=row.smelter_facility_id, kyc_status=row.kyc_status,
        risk_level=row.risk_level, risk_factors=list(row.risk_factors), next_review_date=row.next_review_date,
        shared_with=await share_repository.list_grantees(db, actor_id=row.id))


def licence_state(row: LicenceRow) -> LicenceState:
    return LicenceState(licence_id=row.id, licence_type=row.licence_type, issuer=row.issuer, number=row.number,
                        valid_from=row.valid_from, valid_to=row.valid_to)


async def site_event(db: AsyncSession, site: MineSite, event_class: type[KycEvent], *,
                     step: StatusChange | None = None, **fields: Any) -> None:
    """Stage an event keyed by the site: its next version and its state. `step` is the status change told when
    one decision made several (the site already holds the last one; each event shows the status it made)."""
    version = await site_repository.next_event_seq(db, site.id)
    outbox.add(db, event_class(org_id=site.org_id, site_id=site.id, aggregate_version=version,
                               site=site_state(site, step=step), **fields), key=site.id)


def site_state(site: MineSite, *, step: StatusChange | None = None) -> MineSiteState:
    status, since = (step.status, step.on) if step is not None else (site.status, site.status_since)
    return MineSiteState(
        site_id=site.id, org_id=site.org_id, name=site.name, operator_actor_id=site.operator_actor_id,
        country=site.country, region=site.region, minerals=list(site.minerals),
        capacity_kg_per_month=site.capacity_kg_per_month, status=status.value, status_since_date=since,
        area_risk=site.area_risk, risk_table_version=site.risk_table_version)


async def document_event(db: AsyncSession, row: DocumentRow, **fields: Any) -> None:
    """Keyed by the document's actor, else its site, else itself: the version is that aggregate's."""
    if row.actor_id is not None:
        key, version = row.actor_id, await actor_repository.next_event_seq(db, row.actor_id)
    elif row.site_id is not None:
        key, version = row.site_id, await site_repository.next_event_seq(db, row.site_id)
    else:
        key, version = row.id, 1  # a document on its own is its key, and its upload is the only event it has
    outbox.add(db, DocumentUploaded(org_id=row.org_id, aggregate_version=version, **fields), key=key)
