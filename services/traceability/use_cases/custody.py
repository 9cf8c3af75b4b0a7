"""Custody moves: transfers confirmed by both sides, transformations with mass balance, export, receipt, corrections."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.db import utcnow
from libs.common.errors import Conflict, Invalid, NotFound
from libs.common.events.traceability import (
    LotConsumed,
    LotCreated,
    LotExported,
    LotMoved,
    LotReceived,
    LotTransferInitiated,
)
from services.traceability.domain.rules import Anomaly, exceeds_mass_balance, weight_differs
from services.traceability.domain.units import to_kg
from services.traceability.repository import custody_log
from services.traceability.repository import lots as repository
from services.traceability.use_cases import anomalies, blocking, checks
from services.traceability.use_cases.lots import publish


async def _log(
    db: AsyncSession,
    kind: str,
    *,
    org_id: str,
    lots: list[tuple[UUID, str]],
    event_id: UUID | None = None,
    **content: Any,
) -> UUID:
    """Append the custody event: each write does this last, just before its commit, because the append holds the
    organisation's log head row locked until then, and that is the one part custody writes do one at a time."""
    by_role: dict[str, list[str]] = {}
    for lot_id, role in lots:
        by_role.setdefault(role, []).append(str(lot_id))
    body = {"lots": by_role, "event_time": utcnow().isoformat(), "corrects_event_id": None, **content}
    return await custody_log.record_event(
        db, org_id=org_id, event_id=event_id or uuid4(), kind=kind, content=body, lots=lots
    )


async def _require_custodian(
    db: AsyncSession, sessions: async_sessionmaker[AsyncSession], lot: sa.Row[Any], actor_id: UUID, *, org_id: str
) -> None:
    """Only the holder moves a lot. An actor presenting a lot it never received is a custody jump: refused, and
    recorded apart so the refusal keeps it."""
    if lot.custodian_actor_id == actor_id:
        return
    if not await repository.has_held(db, lot.lot_id, actor_id):
        anomaly = Anomaly(
            kind="custody_jump",
            cause=f"custody_jump:{lot.lot_id}:{actor_id}",
            detail=f"actor {actor_id} presented lot {lot.lot_id}, which it never received",
            lot_ids=[lot.lot_id],
            actor_ids=[actor_id] + ([lot.custodian_actor_id] if lot.custodian_actor_id else []),
            site_ids=[UUID(s) for s in lot.origin_site_ids],
            mineral=lot.mineral,
        )
        await anomalies.record_apart(sessions, anomaly, org_id=org_id)
    raise Conflict(f"actor {actor_id} does not hold lot {lot.lot_id}", code="not_custodian")


async def initiate_transfer(
    db: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    lot_id: UUID,
    *,
    org_id: str,
    from_actor_id: UUID,
    to_actor_id: UUID,
    into_country: str | None = None,
    border_point: str | None = None,
) -> UUID:
    if from_actor_id == to_actor_id:
        raise Invalid("a lot cannot be transferred to its own holder", code="transfer_to_self")
    lot = await repository.get_lot(db, lot_id, org_id=org_id, for_update=True)
    await checks.require_movable(db, lot, org_id=org_id)
    await _require_custodian(db, sessions, lot, from_actor_id, org_id=org_id)
    if lot.status == "in_transit":
        raise Conflict(f"lot {lot_id} is already in transit", code="transfer_pending")
    await checks.require_approved(db, [from_actor_id, to_actor_id], org_id=org_id)
    event_id = uuid4()
    checks.writing(db)
    row = await repository.update_lot(
        db, lot_id, status="in_transit", pending_to_actor_id=to_actor_id, pending_event_id=event_id,
        pending_mass_kg=lot.mass_kg, country=into_country or lot.country,
    )  # fmt: skip
    await publish(
        db, LotTransferInitiated, lot_id, org_id=org_id, row=row, from_actor_id=from_actor_id,
        to_actor_id=to_actor_id, mass_kg=lot.mass_kg,
    )  # fmt: skip
    return await _log(
        db, "transfer_initiated", org_id=org_id, lots=[(lot_id, "subject")], event_id=event_id,
        from_actor_id=str(from_actor_id), to_actor_id=str(to_actor_id), mass_kg=lot.mass_kg,
        into_country=into_country, border_point=border_point,
    )  # fmt: skip


async def confirm_transfer(
    db: AsyncSession, lot_id: UUID, *, org_id: str, actor_id: UUID, mass: float, unit: str
) -> UUID:
    """The receiver confirms with what it weighed; a difference beyond the tolerance is an anomaly, not a refusal."""
    received_kg = to_kg(mass, unit)
    await blocking.lock_org(db, org_id, exclusive=False)
    lot = await repository.get_lot(db, lot_id, org_id=org_id, for_update=True)
    if lot.status != "in_transit" or lot.pending_to_actor_id != actor_id:
        raise Conflict(f"no transfer of lot {lot_id} awaits confirmation by {actor_id}", code="no_pending_transfer")
    await checks.require_movable(db, lot, org_id=org_id)
    await checks.require_approved(db, [actor_id], org_id=org_id)
    sender, sent_kg, initiated = lot.custodian_actor_id, lot.pending_mass_kg, lot.pending_event_id
    event_id = uuid4()
    checks.writing(db)
    if weight_differs(sent_kg, received_kg):
        anomaly = Anomaly(
            kind="weight_discrepancy",
            cause=f"weight_discrepancy:{event_id}",
            detail=f"lot {lot_id} left {sender} at {sent_kg:.3f} kg and reached {actor_id} at {received_kg:.3f} kg",
            lot_ids=[lot_id],
            actor_ids=[a for a in (sender, actor_id) if a is not None],
            site_ids=[UUID(s) for s in lot.origin_site_ids],
            mineral=lot.mineral,
        )
        await anomalies.record(db, anomaly, org_id=org_id)
    row = await repository.update_lot(
        db, lot_id, status="active", custodian_actor_id=actor_id, pending_to_actor_id=None, pending_event_id=None,
        pending_mass_kg=None, mass_kg=received_kg, mass=mass, unit=unit,
    )  # fmt: skip
    await repository.add_holder(db, lot_id, actor_id)
    await publish(
        db, LotMoved, lot_id, org_id=org_id, row=row, from_actor_id=sender, to_actor_id=actor_id, mass_kg=received_kg
    )
    # a holder named by a blocking incident blocks the lot (locked above: its row is the one to settle)
    await blocking.refresh(db, [row], org_id=org_id)
    return await _log(
        db, "transfer_confirmed", org_id=org_id, lots=[(lot_id, "subject")], event_id=event_id,
        from_actor_id=str(sender), to_actor_id=str(actor_id), mass_kg=received_kg, initiated_event_id=str(initiated),
    )  # fmt: skip


@dataclass(frozen=True)
class NewOutput:
    mass: float
    unit: str
    form: str | None = None
    grade_pct: float | None = None
    tag: str | None = None


async def transform(
    db: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    *,
    org_id: str,
    kind: str,
    actor_id: UUID,
    input_lot_ids: list[UUID],
    outputs: list[NewOutput],
    yield_pct: float | None = None,
) -> list[UUID]:
    """Split (one in, several out), merge (several in, one out) or processing (with a yield): all or nothing."""
    _check_shape(kind, input_lot_ids, outputs)
    await blocking.lock_org(db, org_id, exclusive=False)
    inputs = await repository.get_lots_for_update(db, input_lot_ids, org_id=org_id)
    for lot in inputs:
        await checks.require_movable(db, lot, org_id=org_id)
        await _require_custodian(db, sessions, lot, actor_id, org_id=org_id)
        if lot.status == "in_transit":
            raise Conflict(f"lot {lot.lot_id} is in transit", code="transfer_pending")
    await checks.require_approved(db, [actor_id], org_id=org_id)
    inputs_kg = sum(lot.mass_kg for lot in inputs)
    outputs_kg = [to_kg(out.mass, out.unit) for out in outputs]
    if exceeds_mass_balance(inputs_kg, sum(outputs_kg), yield_pct=yield_pct if kind == "processing" else None):
        await _mass_balance_anomaly(sessions, inputs, actor_id, inputs_kg, sum(outputs_kg), org_id=org_id)
        raise Invalid(
            f"outputs weigh {sum(outputs_kg):.3f} kg, more than the inputs' {inputs_kg:.3f} kg allow",
            code="mass_balance_exceeded",
        )
    output_ids = [uuid4() for _ in outputs]
    checks.writing(db)
    origins = sorted({site for lot in inputs for site in lot.origin_site_ids})
    first, now = inputs[0], utcnow()
    edges = list(dict.fromkeys(input_lot_ids))
    values = [
        {
            "lot_id": output_id, "org_id": org_id, "tag": out.tag, "mineral": first.mineral, "hs_code": first.hs_code,
            "form": out.form or first.form, "mass": out.mass, "unit": out.unit, "mass_kg": kg,
            "grade_pct": out.grade_pct, "site_id": None, "origin_site_ids": origins, "producer_actor_id": actor_id,
            "custodian_actor_id": actor_id, "status": "active", "country": first.country, "place": None,
            "produced_at": now, "created_at": now, "version": 1,
        }
        for output_id, out, kg in zip(output_ids, outputs, outputs_kg, strict=True)
    ]  # fmt: skip
    created = await repository.insert_lots(db, values, input_lot_ids=edges, holder=actor_id)
    consumed = await repository.consume_lots(db, [lot.lot_id for lot in inputs])
    for output in created:
        await publish(db, LotCreated, output.lot_id, org_id=org_id, row=output, inputs=edges)
    for lot in consumed:
        await publish(db, LotConsumed, lot.lot_id, org_id=org_id, row=lot, output_lot_ids=output_ids)
    await blocking.refresh(db, created, org_id=org_id)  # the outputs, new in this transaction
    await _log(
        db, "transformation", org_id=org_id,
        lots=[(lot.lot_id, "input") for lot in inputs] + [(o, "output") for o in output_ids],
        transformation=kind, actor_id=str(actor_id), input_mass_kg=inputs_kg, output_mass_kg=outputs_kg,
        yield_pct=yield_pct,
    )  # fmt: skip
    return output_ids


def _check_shape(kind: str, input_lot_ids: list[UUID], outputs: list[NewOutput]) -> None:
    if len(set(input_lot_ids)) != len(input_lot_ids):
        raise Invalid("an input lot is named twice", code="duplicate_input")
    if kind == "split" and (len(input_lot_ids) != 1 or len(outputs) < 2):
        raise Invalid("a split takes one lot and gives two or more", code="transformation_shape")
    if kind == "merge" and (len(input_lot_ids) < 2 or len(outputs) != 1):
        raise Invalid("a merge takes two or more lots and gives one", code="transformation_shape")
    if kind == "processing" and (not input_lot_ids or not outputs):
        raise Invalid("processing takes lots and gives lots", code="transformation_shape")


async def _mass_balance_anomaly(
    sessions: async_sessionmaker[AsyncSession],
    inputs: list[sa.Row[Any]],
    actor_id: UUID,
    inputs_kg: float,
    outputs_kg: float,
    *,
    org_id: str,
) -> None:
    lot_ids = sorted((lot.lot_id for lot in inputs), key=str)
    anomaly = Anomaly(
        kind="mass_balance_excess",
        cause=f"mass_balance_excess:{actor_id}:{','.join(map(str, lot_ids))}:{outputs_kg:.3f}",
        detail=f"actor {actor_id} declared {outputs_kg:.3f} kg out of {inputs_kg:.3f} kg in",
        lot_ids=lot_ids,
        actor_ids=[actor_id],
        site_ids=sorted({UUID(s) for lot in inputs for s in lot.origin_site_ids}, key=str),
        mineral=inputs[0].mineral,
    )
    await anomalies.record_apart(sessions, anomaly, org_id=org_id)


async def export_lot(
    db: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    lot_id: UUID,
    *,
    org_id: str,
    actor_id: UUID,
    certificate: str,
    country: str,
    border_point: str | None = None,
) -> UUID:
    """Export from `country`: a lot that left its origin country without a recorded crossing is an anomaly."""
    lot = await repository.get_lot(db, lot_id, org_id=org_id, for_update=True)
    await checks.require_movable(db, lot, org_id=org_id)
    await _require_custodian(db, sessions, lot, actor_id, org_id=org_id)
    await checks.require_approved(db, [actor_id], org_id=org_id)
    if lot.country is not None and country != lot.country:
        anomaly = Anomaly(
            kind="undeclared_crossing",
            cause=f"undeclared_crossing:{lot_id}:{country}",
            detail=f"lot {lot_id} exported from {country}, but its custody records it in {lot.country}",
            lot_ids=[lot_id],
            actor_ids=[actor_id],
            site_ids=[UUID(s) for s in lot.origin_site_ids],
            country=country,
            mineral=lot.mineral,
        )
        await anomalies.record(db, anomaly, org_id=org_id)
    row = await repository.update_lot(db, lot_id, country=country)
    await publish(
        db, LotExported, lot_id, org_id=org_id, row=row, export_certificate=certificate, border_point=border_point
    )
    return await _log(
        db, "export", org_id=org_id, lots=[(lot_id, "subject")], actor_id=str(actor_id),
        export_certificate=certificate, country=country, border_point=border_point,
    )  # fmt: skip


async def receive_lot(
    db: AsyncSession, sessions: async_sessionmaker[AsyncSession], lot_id: UUID, *, org_id: str, smelter_actor_id: UUID
) -> UUID:
    """Receipt at the smelter, which holds the lot after a confirmed transfer."""
    lot = await repository.get_lot(db, lot_id, org_id=org_id, for_update=True)
    await checks.require_movable(db, lot, org_id=org_id)
    await _require_custodian(db, sessions, lot, smelter_actor_id, org_id=org_id)
    row = await repository.update_lot(db, lot_id)
    await publish(db, LotReceived, lot_id, org_id=org_id, row=row, smelter_actor_id=smelter_actor_id)
    return await _log(db, "receipt", org_id=org_id, lots=[(lot_id, "subject")], actor_id=str(smelter_actor_id))


async def correct_event(db: AsyncSession, *, org_id: str, corrects_event_id: UUID, reason: str) -> UUID:
    """A new event naming the one it corrects; the corrected one stays as it was."""
    corrected = await custody_log.find_event(db, corrects_event_id, org_id=org_id)
    if corrected is None:
        raise NotFound(f"custody event {corrects_event_id} not found", code="event_not_found")
    lot_ids = await custody_log.lots_of_event(db, corrects_event_id)
    logged = await custody_log.append_event(
        db, org_id=org_id, event_id=uuid4(), kind="correction",
        content={"corrects_event_id": str(corrects_event_id), "reason": reason, "event_time": utcnow().isoformat(),
                 "lots": {"subject": [str(x) for x in lot_ids]}},
        lots=[(x, "subject") for x in lot_ids],
    )  # fmt: skip
    return logged.event_id
