"""Events the traceability service publishes on `traceability.events`.

Lot events are keyed by the lot id and carry `aggregate_version` (one higher for each event of the lot) and `lot`,
the lot's state after the event, with its direct inputs, so a consumer can keep a copy of lineage. Anomalies are
keyed by the anomaly id, which is stable for one cause: a consumer opens one incident per anomaly id."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from libs.common.events.base import Event


class LotState(BaseModel):
    """A lot as the custody register holds it after the event."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    lot_id: UUID
    org_id: str
    tag: str | None = None
    mineral: str  # e.g. gold, tin, tantalum, tungsten, cobalt
    hs_code: str | None = None
    form: str  # ore | concentrate | dore | ingot | ...
    mass: float  # in `unit`
    unit: str  # UN/ECE Rec 20 code: KGM, GRM, TNE, ...
    mass_kg: float
    grade_pct: float | None = None
    origin_site_ids: list[UUID] = []  # every mine site behind the lot, through its inputs
    producer_actor_id: UUID | None = None
    custodian_actor_id: UUID | None = None  # who holds it now (the receiver once a transfer is confirmed)
    status: str  # active | in_transit | consumed | blocked
    blocked_reasons: list[str] = []  # e.g. site_red:<site_id>, incident:<incident_id>, actor_suspended:<actor_id>
    input_lot_ids: list[UUID] = []  # the lots it was made from (split, merge, processing)
    created_at: datetime


class TraceabilityEvent(Event):
    topic: ClassVar[str] = "traceability.events"
    org_id: str


class LotEvent(TraceabilityEvent):
    lot_id: UUID
    aggregate_version: int
    lot: LotState


class LotCreated(LotEvent):
    """At the mine, or as an output of a transformation (then `lot.input_lot_ids` names the inputs)."""


class LotTransferInitiated(LotEvent):
    from_actor_id: UUID
    to_actor_id: UUID
    mass_kg: float


class LotMoved(LotEvent):
    """A transfer confirmed by the receiver, with the mass it weighed."""

    from_actor_id: UUID
    to_actor_id: UUID
    mass_kg: float


class LotConsumed(LotEvent):
    """The lot was an input of a transformation (split, merge, processing) and can no longer move."""

    output_lot_ids: list[UUID]


class LotExported(LotEvent):
    export_certificate: str
    border_point: str | None = None


class LotReceived(LotEvent):
    """Receipt at a smelter or refiner."""

    smelter_actor_id: UUID


class LotBlocked(LotEvent):
    reason: str


class LotReleased(LotEvent):
    reason: str


class CustodyAnomalyDetected(TraceabilityEvent):
    anomaly_id: UUID
    # tag_reuse | tag_unallocated | tag_foreign | mass_balance_excess | weight_discrepancy | capacity_exceeded |
    # custody_jump | undeclared_crossing
    kind: str
    detail: str
    lot_ids: list[UUID] = []
    actor_ids: list[UUID] = []
    site_ids: list[UUID] = []
    country: str | None = None
    mineral: str | None = None
    detected_at: datetime
