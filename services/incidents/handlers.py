"""Reactions to KYC and traceability events: automatic incidents, one per cause, and our copy of KYC mine sites."""

from __future__ import annotations

import functools
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.bus import Handlers
from libs.common.events import kyc, traceability
from services.incidents import repository, use_cases
from services.incidents.settings import IncidentsSettings

CUSTODY_CATEGORY = {
    "tag_reuse": "chain_of_custody.tag_misuse",
    "tag_unallocated": "chain_of_custody.tag_misuse",
    "tag_foreign": "chain_of_custody.tag_misuse",
    "custody_jump": "chain_of_custody.smuggling",
    "undeclared_crossing": "chain_of_custody.smuggling",
}


@functools.cache
def _due_days() -> dict[int, int]:
    return IncidentsSettings().verification_days()


async def _open(
    db: AsyncSession,
    org_id: str,
    cause: str,
    category: str,
    title: str,
    summary: str,
    *,
    actor_ids: list[UUID] | None = None,
    site_ids: list[UUID] | None = None,
    lot_ids: list[UUID] | None = None,
    **facts: Any,
) -> None:
    links = {"actor_ids": list(actor_ids or []), "site_ids": list(site_ids or []), "lot_ids": list(lot_ids or [])}
    await use_cases.open_or_update_automatic(
        db,
        org_id=org_id,
        cause=cause,
        category=category,
        title=title[:200],
        summary=summary[:10000],
        due_days=_due_days(),
        links=links,
        **facts,
    )


async def on_hit_confirmed(db: AsyncSession, event: kyc.HitConfirmed) -> None:
    await _open(
        db,
        event.org_id,
        f"kyc.hit:{event.hit_id}",
        "money_laundering.sanctions_match",
        f"Watchlist match confirmed: {event.actor.legal_name}",
        f"{event.list_name} entry {event.entry_id} confirmed by {event.decided_by}: {event.reason}",
        actor_ids=[event.actor_id],
        country=event.actor.country,
    )


async def on_licence_expired(db: AsyncSession, event: kyc.LicenceExpired) -> None:
    sites = await repository.active_sites_of(db, event.org_id, event.actor_id)
    if not sites:
        return  # only a producer with active sites needs an incident
    await _open(
        db,
        event.org_id,
        f"kyc.licence_expired:{event.licence_id}",
        "taxes_fees_royalties.licence_expired",
        f"Licence expired: {event.actor.legal_name}",
        f"{event.licence_type} {event.number} expired on {event.valid_to}",
        actor_ids=[event.actor_id],
        site_ids=sites,
        country=event.actor.country,
    )


async def _save_site(
    db: AsyncSession, event: kyc.MineSiteRegistered | kyc.MineSiteUpdated | kyc.MineSiteStatusChanged
) -> None:
    site = event.site
    await repository.save_site(
        db,
        site_id=site.site_id,
        org_id=event.org_id,
        operator_actor_id=site.operator_actor_id,
        status=site.status,
        version=event.aggregate_version,
    )


async def on_site_status_changed(db: AsyncSession, event: kyc.MineSiteStatusChanged) -> None:
    await _save_site(db, event)
    if event.status != "red" or event.previous_status == "red":
        return
    site = event.site
    await _open(
        db,
        event.org_id,
        f"kyc.site_red:{event.site_id}",
        "armed_groups.site_red_flag",
        f"Mine site red: {site.name}",
        f"{site.name} turned red ({event.reason}) from {event.previous_status}",
        site_ids=[event.site_id],
        actor_ids=[site.operator_actor_id] if site.operator_actor_id else [],
        country=site.country,
        region=site.region,
        mineral=(site.minerals or [None])[0],
    )


async def on_review_overdue(db: AsyncSession, event: kyc.ReviewOverdue) -> None:
    await _open(
        db,
        event.org_id,
        f"kyc.review_overdue:{event.actor_id}",
        "labour_community.kyc_review_overdue",
        f"KYC review overdue: {event.actor.legal_name}",
        f"review was due on {event.next_review_date}",
        actor_ids=[event.actor_id],
        country=event.actor.country,
    )


async def on_custody_anomaly(db: AsyncSession, event: traceability.CustodyAnomalyDetected) -> None:
    await _open(
        db,
        event.org_id,
        f"traceability.anomaly:{event.anomaly_id}",
        CUSTODY_CATEGORY.get(event.kind, "chain_of_custody.mass_balance"),
        f"Custody anomaly: {event.kind}",
        event.detail,
        actor_ids=event.actor_ids,
        site_ids=event.site_ids,
        lot_ids=event.lot_ids,
        country=event.country,
        mineral=event.mineral,
    )


async def on_site_saved(db: AsyncSession, event: kyc.MineSiteRegistered | kyc.MineSiteUpdated) -> None:
    await _save_site(db, event)


HANDLERS: Handlers = {
    kyc.HitConfirmed: on_hit_confirmed,
    kyc.LicenceExpired: on_licence_expired,
    kyc.MineSiteRegistered: on_site_saved,
    kyc.MineSiteUpdated: on_site_saved,
    kyc.MineSiteStatusChanged: on_site_status_changed,
    kyc.ReviewOverdue: on_review_overdue,
    traceability.CustodyAnomalyDetected: on_custody_anomaly,
}
