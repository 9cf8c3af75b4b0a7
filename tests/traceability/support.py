"""Arranging a programme for custody tests: actors and sites as KYC announces them, through our handlers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa

from libs.common.events.incidents import IncidentState, IncidentVerified
from libs.common.events.kyc import ActorApproved, ActorState, MineSiteRegistered, MineSiteState, MineSiteStatusChanged
from services.traceability import handlers
from services.traceability.tables import AnomalyRow

ORG = "org-a"


async def deliver(stack, *events: Any) -> None:  # type: ignore[no-untyped-def]
    for item in events:
        async with stack.sessions("traceability")() as db, db.begin():
            await handlers.HANDLERS[type(item)](db, item)


async def approved_actor(stack, actor_type: str = "trader", *, status: str = "approved", version: int = 3,  # type: ignore[no-untyped-def]
                         org: str = ORG) -> UUID:  # fmt: skip
    actor_id = uuid4()
    actor = ActorState(
        actor_id=actor_id, org_id=org, actor_type=actor_type, legal_name=f"{actor_type} {actor_id.hex[:6]}",
        country="CD", kyc_status=status,
    )  # fmt: skip
    await deliver(stack, ActorApproved(org_id=org, actor_id=actor_id, aggregate_version=version, actor=actor,
                                       approved_by="bob"))  # fmt: skip
    return actor_id


def site_state(site_id: UUID, *, status: str = "green", capacity: float | None = 5000.0) -> MineSiteState:
    return MineSiteState(
        site_id=site_id, org_id=ORG, name=f"site {site_id.hex[:6]}", country="CD", minerals=["tin"],
        capacity_kg_per_month=capacity, status=status, status_since_date=date(2026, 1, 1),
        latitude=-3.06, longitude=28.18,
    )  # fmt: skip


async def site(stack, *, status: str = "green", capacity: float | None = 5000.0) -> UUID:  # type: ignore[no-untyped-def]
    site_id = uuid4()
    await deliver(stack, MineSiteRegistered(org_id=ORG, site_id=site_id, aggregate_version=1,
                                            site=site_state(site_id, status=status, capacity=capacity)))  # fmt: skip
    return site_id


def site_turned(site_id: UUID, status: str, version: int) -> MineSiteStatusChanged:
    return MineSiteStatusChanged(
        org_id=ORG, site_id=site_id, aggregate_version=version, site=site_state(site_id, status=status),
        previous_status="green", status=status, reason="inspection", effective_at=datetime.now(UTC),
    )  # fmt: skip


def incident_verified(*, site_ids: list[UUID], version: int = 3, status: str = "verified") -> IncidentVerified:
    incident_id, now = uuid4(), datetime.now(UTC)
    state = IncidentState(
        incident_id=incident_id, org_id=ORG, reference="INC-1", category="annex2.forced_labour",
        category_group="annex2_serious_abuse", level=1, required_response="disengage", status=status,
        title="forced labour", summary="seen", source="staff", site_ids=site_ids, reported_at=now, updated_at=now,
    )  # fmt: skip
    return IncidentVerified(org_id=ORG, incident_id=incident_id, aggregate_version=version, incident=state)


async def anomaly_kinds(stack) -> list[str]:  # type: ignore[no-untyped-def]
    async with stack.sessions("traceability")() as db:
        return sorted((await db.execute(sa.select(AnomalyRow.kind))).scalars())


async def outbox_types(stack) -> list[str]:  # type: ignore[no-untyped-def]
    async with stack.engine("traceability").connect() as conn:
        rows = await conn.execute(sa.text("SELECT event_type FROM outbox_message ORDER BY id"))
        return [r[0] for r in rows]
