"""What the smelter custody view returns: a lot's whole chain back to the mines, in one response."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field


class ViewLot(BaseModel):
    lot_id: UUID
    depth: int = Field(description="0 for the lot asked about; 1 for its inputs, and so on back to the mines")
    tag: str | None
    mineral: str
    form: str
    mass: float
    unit: str
    mass_kg: float
    status: str
    site_id: UUID | None = Field(description="the mine site, for a lot created at a mine")
    origin_site_ids: list[UUID]


class ViewEvent(BaseModel):
    event_id: UUID
    seq: int
    kind: str
    recorded_at: datetime
    event_time: str | None
    lot_ids: dict[str, list[UUID]] = Field(description="by role: subject, input, output")
    actor_ids: list[UUID] = Field(description="every actor the event names: sender, receiver, holder, producer")
    from_actor_id: UUID | None = None
    to_actor_id: UUID | None = None
    mass_kg: float | None = Field(None, description="the mass the event states (a transfer's, a creation's)")
    hash: str = Field(description="the event's hash in the custody log, as the proof bundle carries it")
    corrects_event_id: UUID | None = None


class ViewActor(BaseModel):
    actor_id: UUID
    legal_name: str | None
    actor_type: str | None
    country: str | None
    kyc_status: str = Field(description='as KYC last reported it; "unknown" when our copy has none')
    version: int | None = Field(description="the KYC version our copy reflects (null: never heard of)")
    updated_at: datetime | None = Field(description="when our copy last changed: how stale it may be")


class ViewSite(BaseModel):
    site_id: UUID
    name: str | None
    country: str | None
    region: str | None
    status: str = Field(description='green | yellow | red | blue; "unknown" when our copy has none')
    version: int | None
    updated_at: datetime | None


class ViewIncident(BaseModel):
    incident_id: UUID
    reference: str | None
    level: int
    category: str | None
    status: str
    lot_ids: list[UUID]
    actor_ids: list[UUID]
    site_ids: list[UUID]


class ViewRisk(BaseModel):
    score: float
    band: str
    factors: list[dict[str, Any]]
    as_of: datetime | None = Field(description="when scoring computed it")
    version: int


class MassBalance(BaseModel):
    event_id: UUID
    transformation: str | None = Field(description="split | merge | processing")
    input_lot_ids: list[UUID]
    output_lot_ids: list[UUID]
    inputs_kg: float
    outputs_kg: float
    difference_pct: float = Field(description="(outputs - inputs) / inputs, in %: negative is a loss")
    yield_pct: float | None
    within_tolerance: bool


class Verification(BaseModel):
    checkpoint_tree_size: int | None = Field(description="the latest signed checkpoint (null: none signed yet)")
    checkpoint_root_hash: str | None
    checkpoint_signed_at: datetime | None
    covers_all_events: bool = Field(description="the checkpoint includes every event listed here")
    proof_url: str
    public_key_url: str
    verify_command: str


class CustodyViewRead(BaseModel):
    lot_id: UUID
    lots: list[ViewLot] = Field(description="the lot (depth 0) and every lot upstream of it")
    events: list[ViewEvent] = Field(description="every custody event of those lots, in log order")
    actors: list[ViewActor]
    sites: list[ViewSite] = Field(description="the origin mine sites")
    open_incidents: list[ViewIncident] = Field(description="open incidents touching any lot, site or actor above")
    risk: ViewRisk | None = Field(description="the lot's score from scoring (null: none published)")
    mass_balance: list[MassBalance]
    verification: Verification
