"""Events as the other services publish them, and their delivery to the risk handlers."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa

from libs.common import bus, logs
from libs.common.events import incidents, kyc, traceability
from libs.common.events.base import Event
from libs.common.tables import OutboxMessageRow
from services.scoring.risk import handlers

ORG = "org-a"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def actor_state(actor_id: UUID, **overrides: Any) -> kyc.ActorState:
    values: dict[str, Any] = dict(
        actor_id=actor_id,
        org_id=ORG,
        actor_type="exporter",
        legal_name="Comptoir Kivu",
        country="CD",
        region="CD-NK",
        kyc_status="approved",
        risk_level="low",
    )
    return kyc.ActorState(**{**values, **overrides})


def approved(actor_id: UUID, version: int, **overrides: Any) -> kyc.ActorApproved:
    return kyc.ActorApproved(
        org_id=ORG,
        actor_id=actor_id,
        aggregate_version=version,
        actor=actor_state(actor_id, **overrides),
        approved_by="bob",
    )


def suspended(actor_id: UUID, version: int) -> kyc.ActorSuspended:
    return kyc.ActorSuspended(
        org_id=ORG,
        actor_id=actor_id,
        aggregate_version=version,
        actor=actor_state(actor_id, kyc_status="suspended"),
        suspended_by="bob",
        reason="hit",
    )


def licence_added(actor_id: UUID, version: int, licence_id: UUID, valid_to: date) -> kyc.ActorUpdated:
    licence = kyc.LicenceState(
        licence_id=licence_id,
        licence_type="mining",
        issuer="CAMI",
        number="PE-1",
        valid_from=date(2025, 1, 1),
        valid_to=valid_to,
    )
    return kyc.ActorUpdated(
        org_id=ORG,
        actor_id=actor_id,
        aggregate_version=version,
        actor=actor_state(actor_id),
        changed_fields=["licences"],
        part="licence",
        part_id=licence_id,
        action="added",
        licence=licence,
    )


def site_event(
    site_id: UUID,
    version: int,
    *,
    status: str = "green",
    operator: UUID | None = None,
    area_risk: str | None = "standard",
) -> kyc.MineSiteStatusChanged:
    site = kyc.MineSiteState(
        site_id=site_id,
        org_id=ORG,
        name="Kamituga 3",
        operator_actor_id=operator,
        country="CD",
        status=status,
        status_since_date=date(2026, 11, 1),
        area_risk=area_risk,
    )
    return kyc.MineSiteStatusChanged(
        org_id=ORG,
        site_id=site_id,
        aggregate_version=version,
        site=site,
        previous_status="green",
        status=status,
        reason="inspection",
        effective_at=NOW,
    )


def incident(
    incident_id: UUID,
    version: int,
    *,
    status: str = "reported",
    level: int = 1,
    site_ids: list[UUID] = (),
    actor_ids: list[UUID] = (),
    lot_ids: list[UUID] = (),
) -> incidents.IncidentEvent:  # type: ignore[assignment]
    state = incidents.IncidentState(
        incident_id=incident_id,
        org_id=ORG,
        reference="INC-2026-00001",
        category="annex2.forced_labour",
        category_group="annex2_serious_abuse",
        level=level,
        required_response="disengage",
        status=status,
        title="Forced labour",
        summary="reported by a monitor",
        source="monitor",
        site_ids=list(site_ids),
        actor_ids=list(actor_ids),
        lot_ids=list(lot_ids),
        reported_at=NOW,
        updated_at=NOW,
    )
    event_class = incidents.IncidentClosed if status == "closed" else incidents.IncidentReported
    return event_class(org_id=ORG, incident_id=incident_id, aggregate_version=version, incident=state)


def lot_created(
    lot_id: UUID,
    version: int = 1,
    *,
    sites: list[UUID] = (),
    inputs: list[UUID] = (),  # type: ignore[assignment]
    producer: UUID | None = None,
) -> traceability.LotCreated:
    lot = traceability.LotState(
        lot_id=lot_id,
        org_id=ORG,
        mineral="gold",
        form="ore",
        mass=10,
        unit="KGM",
        mass_kg=10,
        origin_site_ids=list(sites),
        input_lot_ids=list(inputs),
        producer_actor_id=producer,
        custodian_actor_id=producer,
        status="active",
        created_at=NOW,
    )
    return traceability.LotCreated(org_id=ORG, lot_id=lot_id, aggregate_version=version, lot=lot)


async def deliver(stack: Any, *events: Event) -> list[str]:
    """Each event in its own transaction, through the handler the consumer would call, under a new event id."""
    ids = []
    for item in events:
        event_id = str(uuid4())
        with logs.event_context(event_id):
            async with stack.sessions("scoring")() as db, db.begin():
                await handlers.HANDLERS[type(item)](db, item)
                await bus.finish(db)
        ids.append(event_id)
    return ids


async def score_changes(stack: Any, subject_id: UUID | None = None) -> list[dict[str, Any]]:
    query = (
        sa.select(OutboxMessageRow)
        .where(OutboxMessageRow.event_type == "ScoreChanged.v1")
        .order_by(OutboxMessageRow.id)
    )
    async with stack.sessions("scoring")() as db:
        rows = list((await db.execute(query)).scalars())
    payloads = [json.loads(r.payload) for r in rows]
    return [p for p in payloads if subject_id is None or p["subject_id"] == str(subject_id)]


def factor(change: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in change["factors"] if f["factor"] == name)
