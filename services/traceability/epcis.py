"""A lot's custody history as an EPCIS 2.0 JSON-LD document (GS1), built from the custody log.

Identifiers (URNs of our own, as EPCIS allows any URI): a lot is the class `urn:assay:lot:<lot uuid>` (bulk
material is counted in quantityList, not serialised EPCs), a site `urn:assay:site:<site uuid>` (readPoint and
bizLocation), an actor `urn:assay:actor:<actor uuid>` (sourceList/destinationList, type owning_party), an event
`urn:uuid:<event uuid>`; the custody hash is kept as `assay:custodyHash`. Quantities are in the lot's UN/ECE Rec 20
unit (KGM when the event does not say)."""

from __future__ import annotations

import json
from typing import Annotated, Any
from uuid import UUID

import sqlalchemy as sa
from fastapi import APIRouter, Path

from libs.common.db import DbRead, Executor, utcnow
from libs.common.errors import NotFound
from services.traceability import access
from services.traceability.access import Caller
from services.traceability.proofs import bundle
from services.traceability.tables.custody import CustodyEventLotRow, CustodyEventRow

Events: sa.Table = CustodyEventRow.__table__  # type: ignore[attr-defined]
EventLots: sa.Table = CustodyEventLotRow.__table__  # type: ignore[attr-defined]
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"assay": "urn:assay:ns:"}]
# kind → (EPCIS type, action, bizStep); transfers are ObjectEvents with shipping/receiving and owning parties.
KINDS: dict[str, tuple[str, str | None, str]] = {
    "creation": ("ObjectEvent", "ADD", "commissioning"),
    "transfer_initiated": ("ObjectEvent", "OBSERVE", "shipping"),
    "transfer_confirmed": ("ObjectEvent", "OBSERVE", "receiving"),
    "transformation": ("TransformationEvent", None, "other"),
    "export": ("ObjectEvent", "OBSERVE", "departing"),
    "receipt": ("ObjectEvent", "OBSERVE", "receiving"),
    "correction": ("ObjectEvent", "OBSERVE", "inspecting"),
}
router = APIRouter(tags=["exports"])


def lot_urn(lot_id: Any) -> str:
    return f"urn:assay:lot:{lot_id}"


def _quantities(lots: list[str], facts: dict[str, Any]) -> list[dict[str, Any]]:
    unit = str(facts.get("unit") or "KGM")
    mass = facts.get("mass", facts.get("mass_kg"))
    items: list[dict[str, Any]] = []
    for lot in lots:
        item: dict[str, Any] = {"epcClass": lot_urn(lot)}
        if mass is not None and len(lots) == 1:  # one mass names one lot; per-lot masses come from `masses`
            item.update(quantity=float(mass), uom=unit)
        elif isinstance(facts.get("masses"), dict) and lot in facts["masses"]:
            item.update(quantity=float(facts["masses"][lot]), uom=unit)
        items.append(item)
    return items


def _parties(facts: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    sender = facts.get("from_actor_id") or facts.get("sender_id")
    receiver = facts.get("to_actor_id") or facts.get("receiver_id")
    if sender:
        out["sourceList"] = [{"type": "owning_party", "source": f"urn:assay:actor:{sender}"}]
    if receiver:
        out["destinationList"] = [{"type": "owning_party", "destination": f"urn:assay:actor:{receiver}"}]
    return out


def to_epcis_event(row: Any, roles: dict[str, list[str]]) -> dict[str, Any]:
    facts: dict[str, Any] = json.loads(row.body)
    kind, action, step = KINDS.get(row.kind, ("ObjectEvent", "OBSERVE", "other"))
    event: dict[str, Any] = {
        "type": kind,
        "eventID": f"urn:uuid:{row.event_id}",
        "eventTime": str(facts.get("occurred_at") or row.recorded_at.isoformat()),
        "recordTime": row.recorded_at.isoformat(),
        "eventTimeZoneOffset": "+00:00",
        "bizStep": step,
        "assay:custodyHash": row.hash,
        "assay:custodyKind": row.kind,
    }
    if kind == "TransformationEvent":
        event["inputQuantityList"] = _quantities(roles.get("input", []), facts)
        event["outputQuantityList"] = _quantities(roles.get("output", []), facts)
        event["transformationID"] = f"urn:uuid:{row.event_id}"
    else:
        event["action"] = action
        event["quantityList"] = _quantities(roles.get("subject", []) + roles.get("output", []), facts)
        event.update(_parties(facts))
    if facts.get("site_id"):
        site = f"urn:assay:site:{facts['site_id']}"
        event["readPoint"] = {"id": site}
        event["bizLocation"] = {"id": site}
    return event


async def lot_document(db: Executor, lot_id: UUID, *, org_id: str) -> dict[str, Any]:
    lots = await bundle.upstream_lots(db, lot_id, org_id=org_id)
    if not lots:
        raise NotFound(f"lot {lot_id} has no custody events here", code="lot_not_found")
    touching = sa.select(EventLots.c.event_id).where(EventLots.c.lot_id.in_(lots))
    query = sa.select(Events).where(Events.c.org_id == org_id, Events.c.event_id.in_(touching))
    rows = (await db.execute(query.order_by(Events.c.seq))).all()
    links = (await db.execute(sa.select(EventLots).where(EventLots.c.event_id.in_([r.event_id for r in rows])))).all()
    roles: dict[Any, dict[str, list[str]]] = {}
    for link in links:
        roles.setdefault(link.event_id, {}).setdefault(link.role, []).append(str(link.lot_id))
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "id": f"urn:assay:epcis:lot:{lot_id}",
        "schemaVersion": "2.0",
        "creationDate": utcnow().isoformat(),
        "epcisBody": {"eventList": [to_epcis_event(r, roles.get(r.event_id, {})) for r in rows]},
    }


@router.get("/lots/{lot_id}/epcis", summary="A lot's history and upstream lineage as an EPCIS 2.0 JSON-LD document")
async def get_lot_epcis(lot_id: Annotated[UUID, Path()], principal: Caller, db: DbRead) -> dict[str, Any]:
    await access.require_visible(db, lot_id, principal)
    return await lot_document(db, lot_id, org_id=principal.org_id)
