"""What the lot, tag and custody routes accept and return."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from libs.common.schemas import text

Text = text(100)  # no control characters (PostgreSQL refuses NUL bytes): libs.common.schemas
Unit = Annotated[text(3, min_length=3), Field(description="UN/ECE Rec 20 code: KGM, GRM, TNE, APZ, ...")]
Mass = Annotated[float, Field(description="greater than zero, in `unit`", allow_inf_nan=False, strict=True)]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


def _text_only(value: Any) -> Any:
    if not isinstance(value, str):  # the schema says string (date-time); pydantic would take a number as epoch
        raise ValueError("a date-time is an RFC 3339 string")
    return value


Timestamp = Annotated[datetime, BeforeValidator(_text_only)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AllocateTags(Strict):
    prefix: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]
    first: Annotated[int, Field(ge=0, le=10**12)]
    count: Annotated[int, Field(ge=1, le=10_000)]
    site_id: UUID | None = None
    actor_id: UUID | None = None


class TagBlockRead(BaseModel):
    block_id: UUID
    issued: int = Field(description="tags new in this block; numbers issued before are left as they were")


class CreateLot(Strict):
    tag: Text
    mineral: Text
    hs_code: Annotated[str, Field(pattern=r"^[0-9]{4,10}$")] | None = None
    form: text(30)
    mass: Mass
    unit: Unit
    grade_pct: Annotated[float, Field(ge=0, le=100, strict=True)] | None = None
    site_id: UUID
    producer_actor_id: UUID
    produced_at: Timestamp | None = None
    place: text(200, min_length=0) | None = None


class LotRead(BaseModel):
    lot_id: UUID
    tag: str | None
    mineral: str
    hs_code: str | None
    form: str
    mass: float
    unit: str
    mass_kg: float
    grade_pct: float | None
    origin_site_ids: list[UUID]
    producer_actor_id: UUID | None
    custodian_actor_id: UUID | None
    status: str = Field(description="active | in_transit | consumed | blocked (while any blocked reason holds)")
    blocked_reasons: list[str] = Field(description="site_red:<site_id>, incident:<incident_id>; empty: may move")
    country: str | None
    produced_at: datetime
    created_at: datetime
    version: int

    @classmethod
    def from_row(cls, row: Any) -> LotRead:
        read = cls.model_validate(row, from_attributes=True)
        blocked = bool(read.blocked_reasons) and read.status != "consumed"
        return read.model_copy(update={"status": "blocked"}) if blocked else read


class InitiateTransfer(Strict):
    from_actor_id: UUID
    to_actor_id: UUID
    into_country: Country | None = Field(None, description="a border crossing: the country the lot enters")
    border_point: text(100, min_length=0) | None = None


class ConfirmTransfer(Strict):
    actor_id: UUID = Field(description="the receiver")
    mass: Mass
    unit: Unit


class Output(Strict):
    mass: Mass
    unit: Unit
    form: text(30) | None = None
    grade_pct: Annotated[float, Field(ge=0, le=100, strict=True)] | None = None


class Transform(Strict):
    kind: Literal["split", "merge", "processing"]
    actor_id: UUID
    input_lot_ids: Annotated[list[UUID], Field(min_length=1, max_length=500)]
    outputs: Annotated[list[Output], Field(min_length=1, max_length=500)]
    yield_pct: Annotated[float, Field(gt=0, le=100, strict=True)] | None = None


class TransformationRead(BaseModel):
    output_lot_ids: list[UUID]


class ExportLot(Strict):
    actor_id: UUID
    export_certificate: Text
    country: Country
    border_point: text(100, min_length=0) | None = None


class ReceiveLot(Strict):
    smelter_actor_id: UUID


class CorrectEvent(Strict):
    corrects_event_id: UUID
    reason: text(1000)


class CustodyEventRead(BaseModel):
    event_id: UUID


class LineageLot(LotRead):
    depth: int


class LineageRead(BaseModel):
    lot_id: UUID
    direction: Literal["up", "down"]
    lots: list[LineageLot]
    site_ids: list[UUID] = Field(description="the mine sites behind the lots (upstream only)")


class TagCheckRead(BaseModel):
    tag: str
    issued: bool
    lot_status: Literal["unused", "active", "in_transit", "consumed", "blocked"] | None


class AnomalyRead(BaseModel):
    anomaly_id: UUID
    kind: str
    detail: str
    lot_ids: list[UUID]
    actor_ids: list[UUID]
    site_ids: list[UUID]
    detected_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> AnomalyRead:
        return cls.model_validate(row, from_attributes=True)


class AnomalyPage(BaseModel):
    items: list[AnomalyRead]
    total: int


Key = text(200)


class BatchCreateLot(CreateLot):
    action: Literal["create_lot"]
    idempotency_key: Key


class BatchTransfer(InitiateTransfer):
    action: Literal["transfer"]
    idempotency_key: Key
    lot_id: UUID


class BatchConfirm(ConfirmTransfer):
    action: Literal["confirm"]
    idempotency_key: Key
    lot_id: UUID


class BatchTransform(Transform):
    """A split, merge or processing, all or nothing as POST /transformations; its result names the output lots."""

    action: Literal["transform"]
    idempotency_key: Key


BatchItem = Annotated[BatchCreateLot | BatchTransfer | BatchConfirm | BatchTransform, Field(discriminator="action")]


class SubmitBatch(Strict):
    # Each item is its own transaction (a few statements): 100 keeps one request to about a second of work, where
    # 500 took longer than a client's usual timeout on a loaded machine; a device sends its backlog in several.
    items: Annotated[list[BatchItem], Field(min_length=1, max_length=100)]

    @model_validator(mode="after")
    def _bounded_transformations(self) -> SubmitBatch:
        named = sum(len(i.input_lot_ids) + len(i.outputs) for i in self.items if isinstance(i, BatchTransform))
        if named > MAX_BATCH_TRANSFORMATION_LOTS:
            raise ValueError(
                f"the batch's transformations name {named} lots (inputs and outputs), more than "
                f"{MAX_BATCH_TRANSFORMATION_LOTS}; send them in several batches"
            )
        return self


# A transformation alone may name up to 500 inputs and 500 outputs; a batch of 100 of them would be 100,000 lots in
# one transaction: the batch's transformations together name at most this many.
MAX_BATCH_TRANSFORMATION_LOTS = 2_000


class BatchResult(BaseModel):
    idempotency_key: str
    status: int = Field(description="what the item alone would have answered: 201, or a problem's status")
    result: dict[str, Any] = Field(
        description="lot_id, event_id or output_lot_ids; for a refusal, the problem's code and detail"
    )
    replayed: bool = Field(description="the key was applied before: this is that answer again, nothing new written")


class BatchRead(BaseModel):
    items: list[BatchResult]
