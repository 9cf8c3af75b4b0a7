"""Automatic incidents: an event in (twice), one incident out; the same cause again updates it."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa

from libs.common import inbox
from libs.common.events import kyc, traceability
from libs.common.events.base import Event
from services.incidents import handlers
from services.incidents.tables import IncidentCauseRow, IncidentRow
from tests.incidents.steps import outbox


def actor(actor_id: UUID) -> kyc.ActorState:
    return kyc.ActorState(
        actor_id=actor_id,
        org_id="org-a",
        actor_type="producer",
        legal_name="Kalimbi Coop",
        country="CD",
        kyc_status="approved",
    )


def site(site_id: UUID, operator: UUID | None, status: str) -> kyc.MineSiteState:
    return kyc.MineSiteState(
        site_id=site_id,
        org_id="org-a",
        name="Kalimbi",
        operator_actor_id=operator,
        country="CD",
        region="CD-SK",
        minerals=["tin"],
        status=status,
        status_since_date=date(2026, 11, 1),
    )


async def deliver(stack: Any, event: Event, *, event_id: str | None = None) -> None:
    """As the bus does: the inbox drops a redelivered event id, the handler runs in the same transaction."""
    event_id = event_id or str(uuid4())
    async with stack.sessions("incidents")() as db, db.begin():
        if await inbox.first_delivery(db, event_id, consumer="incidents"):
            await handlers.HANDLERS[type(event)](db, event)


async def incidents(stack: Any) -> list[Any]:
    async with stack.engine("incidents").connect() as conn:
        return list((await conn.execute(sa.select(IncidentRow.__table__))).all())


def hit_confirmed(hit_id: UUID, actor_id: UUID, version: int = 3) -> kyc.HitConfirmed:
    return kyc.HitConfirmed(
        org_id="org-a",
        aggregate_version=version,
        hit_id=hit_id,
        actor_id=actor_id,
        actor=actor(actor_id),
        subject_type="actor",
        subject_id=actor_id,
        list_name="UN",
        entry_id="CDi.001",
        decided_by="bob",
        reason="same person",
    )


async def test_a_hit_delivered_twice_opens_one_linked_incident(stack):
    actor_id, event_id = uuid4(), str(uuid4())
    event = hit_confirmed(uuid4(), actor_id)

    await deliver(stack, event, event_id=event_id)
    await deliver(stack, event, event_id=event_id)

    [row] = await incidents(stack)
    assert row.source == "automatic" and row.cause == f"kyc.hit:{event.hit_id}"
    assert row.actor_ids == [str(actor_id)]
    assert [r.event_type for r in await outbox(stack)] == ["IncidentReported.v1"]


async def test_the_same_cause_firing_again_updates_the_incident(stack):
    actor_id, hit_id = uuid4(), uuid4()

    await deliver(stack, hit_confirmed(hit_id, actor_id))
    await deliver(stack, hit_confirmed(hit_id, actor_id, version=4))

    [row] = await incidents(stack)
    assert row.version == 2
    rows = await outbox(stack)
    assert [r.event_type for r in rows] == ["IncidentReported.v1", "IncidentUpdated.v1"]
    assert json.loads(rows[1].payload)["changed_fields"] == ["cause_repeated"]
    async with stack.engine("incidents").connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(IncidentCauseRow.__table__))).scalar() == 1


async def test_an_expired_licence_opens_an_incident_only_for_a_producer_with_active_sites(stack):
    with_site, without_site, site_id = uuid4(), uuid4(), uuid4()
    await deliver(
        stack,
        kyc.MineSiteRegistered(
            org_id="org-a", aggregate_version=1, site_id=site_id, site=site(site_id, with_site, "green")
        ),
    )

    for actor_id in (with_site, without_site):
        await deliver(
            stack,
            kyc.LicenceExpired(
                org_id="org-a",
                aggregate_version=5,
                licence_id=uuid4(),
                actor_id=actor_id,
                actor=actor(actor_id),
                licence_type="mining",
                number="PE-1",
                valid_to=date(2026, 11, 30),
            ),
        )

    [row] = await incidents(stack)
    assert row.actor_ids == [str(with_site)] and row.site_ids == [str(site_id)]
    assert row.category == "taxes_fees_royalties.licence_expired"


async def test_a_site_turning_red_opens_a_level_one_incident(stack):
    site_id, operator = uuid4(), uuid4()

    await deliver(
        stack,
        kyc.MineSiteStatusChanged(
            org_id="org-a",
            aggregate_version=2,
            site_id=site_id,
            site=site(site_id, operator, "red"),
            previous_status="green",
            status="red",
            reason="inspection",
            effective_at=datetime.now(UTC),
        ),
    )
    await deliver(
        stack,
        kyc.MineSiteStatusChanged(
            org_id="org-a",
            aggregate_version=3,
            site_id=site_id,
            site=site(site_id, operator, "yellow"),
            previous_status="red",
            status="yellow",
            reason="inspection",
            effective_at=datetime.now(UTC),
        ),
    )

    [row] = await incidents(stack)
    assert (row.level, row.required_response, row.site_ids) == (1, "disengage", [str(site_id)])


async def test_review_overdue_and_custody_anomalies_open_incidents(stack):
    actor_id, anomaly_id, lot_id = uuid4(), uuid4(), uuid4()
    anomaly = traceability.CustodyAnomalyDetected(
        org_id="org-a",
        anomaly_id=anomaly_id,
        kind="tag_reuse",
        detail="tag T-1 used twice",
        lot_ids=[lot_id],
        detected_at=datetime.now(UTC),
    )

    await deliver(
        stack,
        kyc.ReviewOverdue(
            org_id="org-a",
            aggregate_version=9,
            actor_id=actor_id,
            actor=actor(actor_id),
            next_review_date=date(2026, 11, 1),
        ),
    )
    await deliver(stack, anomaly)
    await deliver(stack, anomaly)  # a new delivery of the same anomaly (another event id): an update

    rows = sorted(await incidents(stack), key=lambda r: r.category)
    assert [r.category for r in rows] == ["chain_of_custody.tag_misuse", "labour_community.kyc_review_overdue"]
    assert rows[0].cause == f"traceability.anomaly:{anomaly_id}" and rows[0].lot_ids == [str(lot_id)]


async def test_two_workers_handling_the_same_cause_at_once_make_one_incident(stack, row_locking):
    actor_id, hit_id = uuid4(), uuid4()

    await asyncio.gather(*(deliver(stack, hit_confirmed(hit_id, actor_id, version=v)) for v in (3, 4, 5)))

    [row] = await incidents(stack)
    assert row.version == 3
    assert sorted(r.event_type for r in await outbox(stack)) == [
        "IncidentReported.v1",
        "IncidentUpdated.v1",
        "IncidentUpdated.v1",
    ]
