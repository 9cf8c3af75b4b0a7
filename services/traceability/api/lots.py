"""Routes: tags, lots, custody moves, lineage, anomalies."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter

from libs.common.db import DbRead, DbTransaction
from libs.common.pagination import PageQuery
from services.traceability import access
from services.traceability.access import Caller, Operator
from services.traceability.api.context import Sessions
from services.traceability.repository import anomalies as anomaly_store
from services.traceability.repository import lots as lot_store
from services.traceability.schemas.lots import (
    AllocateTags,
    AnomalyPage,
    AnomalyRead,
    BatchRead,
    BatchResult,
    ConfirmTransfer,
    CorrectEvent,
    CreateLot,
    CustodyEventRead,
    ExportLot,
    InitiateTransfer,
    LineageLot,
    LineageRead,
    LotRead,
    ReceiveLot,
    SubmitBatch,
    TagBlockRead,
    Transform,
    TransformationRead,
)
from services.traceability.use_cases import batch, custody, lineage, lots

router = APIRouter(tags=["lots and custody"])
NOT_FOUND = {404: {"description": "unknown here, or another organisation's"}}


@router.post("/tag-blocks", status_code=201, summary="Issue a block of tags to a mine site or an actor")
async def allocate_tags(body: AllocateTags, principal: Operator, db: DbTransaction) -> TagBlockRead:
    block_id, issued = await lots.allocate_tags(
        db, org_id=principal.org_id, prefix=body.prefix, first=body.first, count=body.count, site_id=body.site_id,
        actor_id=body.actor_id,
    )  # fmt: skip
    return TagBlockRead(block_id=block_id, issued=issued)


@router.post("/lots", status_code=201, summary="Create a lot at the mine, under an issued tag")
async def create_lot(body: CreateLot, principal: Operator, db: DbTransaction, sessions: Sessions) -> LotRead:
    lot_id = await lots.create_lot(db, sessions, lots.NewLot(**body.model_dump()), org_id=principal.org_id)
    return LotRead.from_row(await lot_store.get_lot(db, lot_id, org_id=principal.org_id))


@router.get("/lots/{lot_id}", summary="A lot as the custody register holds it now", responses=NOT_FOUND)
async def get_lot(lot_id: UUID, principal: Caller, db: DbRead) -> LotRead:
    await access.require_visible(db, lot_id, principal)
    return LotRead.from_row(await lot_store.get_lot(db, lot_id, org_id=principal.org_id))


@router.post("/lots/{lot_id}/transfers", status_code=201, summary="The holder sends a lot", responses=NOT_FOUND)
async def initiate_transfer(
    lot_id: UUID, body: InitiateTransfer, principal: Operator, db: DbTransaction, sessions: Sessions
) -> CustodyEventRead:
    event_id = await custody.initiate_transfer(db, sessions, lot_id, org_id=principal.org_id, **body.model_dump())
    return CustodyEventRead(event_id=event_id)


@router.post(
    "/lots/{lot_id}/transfers/confirm", summary="The receiver confirms, with its weighed mass", responses=NOT_FOUND
)
async def confirm_transfer(
    lot_id: UUID, body: ConfirmTransfer, principal: Operator, db: DbTransaction
) -> CustodyEventRead:
    event_id = await custody.confirm_transfer(db, lot_id, org_id=principal.org_id, **body.model_dump())
    return CustodyEventRead(event_id=event_id)


@router.post("/transformations", status_code=201, summary="Split, merge or process lots, with mass balance")
async def transform(body: Transform, principal: Operator, db: DbTransaction, sessions: Sessions) -> TransformationRead:
    outputs = [custody.NewOutput(**out.model_dump()) for out in body.outputs]
    output_ids = await custody.transform(
        db, sessions, org_id=principal.org_id, kind=body.kind, actor_id=body.actor_id,
        input_lot_ids=body.input_lot_ids, outputs=outputs, yield_pct=body.yield_pct,
    )  # fmt: skip
    return TransformationRead(output_lot_ids=output_ids)


@router.post("/lots/{lot_id}/export", status_code=201, summary="Export a lot across a border", responses=NOT_FOUND)
async def export_lot(
    lot_id: UUID, body: ExportLot, principal: Operator, db: DbTransaction, sessions: Sessions
) -> CustodyEventRead:
    event_id = await custody.export_lot(
        db, sessions, lot_id, org_id=principal.org_id, actor_id=body.actor_id, certificate=body.export_certificate,
        country=body.country, border_point=body.border_point,
    )  # fmt: skip
    return CustodyEventRead(event_id=event_id)


@router.post("/lots/{lot_id}/receipt", status_code=201, summary="Receipt at the smelter", responses=NOT_FOUND)
async def receive_lot(
    lot_id: UUID, body: ReceiveLot, principal: Operator, db: DbTransaction, sessions: Sessions
) -> CustodyEventRead:
    event_id = await custody.receive_lot(
        db, sessions, lot_id, org_id=principal.org_id, smelter_actor_id=body.smelter_actor_id
    )
    return CustodyEventRead(event_id=event_id)


@router.post("/custody-events/corrections", status_code=201, summary="Correct an event by a new one naming it")
async def correct_event(body: CorrectEvent, principal: Operator, db: DbTransaction) -> CustodyEventRead:
    event_id = await custody.correct_event(
        db, org_id=principal.org_id, corrects_event_id=body.corrects_event_id, reason=body.reason
    )
    return CustodyEventRead(event_id=event_id)


@router.get("/lots/{lot_id}/lineage", summary="All lots upstream (to the mines) or downstream (recall), with depth")
async def get_lineage(
    lot_id: UUID, principal: Caller, db: DbRead, direction: Literal["up", "down"] = "up"
) -> LineageRead:
    await access.require_visible(db, lot_id, principal)
    lot, rows = await lineage.lineage(db, lot_id, org_id=principal.org_id, direction=direction)
    smelter = access.smelter_actor(principal)
    if smelter is not None and direction == "down":
        rows = await lineage.visible_downstream(db, lot_id, rows, actor_id=smelter)
    sites = lineage.origin_sites(lot, rows) if direction == "up" else []
    items = [LineageLot.model_validate(row, from_attributes=True) for row in rows]
    return LineageRead(lot_id=lot_id, direction=direction, lots=items, site_ids=sites)


@router.get("/anomalies", summary="Custody anomalies detected in the caller's programme")
async def list_anomalies(principal: Operator, db: DbRead, page: PageQuery, kind: str | None = None) -> AnomalyPage:
    rows, total = await anomaly_store.list_anomalies(db, org_id=principal.org_id, kind=kind, page=page)
    return AnomalyPage(items=[AnomalyRead.from_row(r) for r in rows], total=total)


@router.post("/custody/batches", summary="A field device's batch: each item once per idempotency key, on its own")
async def submit_batch(body: SubmitBatch, principal: Operator, sessions: Sessions) -> BatchRead:
    results = await batch.submit(sessions, body.items, org_id=principal.org_id)
    return BatchRead(items=[BatchResult(idempotency_key=k, status=s, result=r, replayed=p) for k, s, r, p in results])
