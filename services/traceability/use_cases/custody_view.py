"""The smelter custody view: a lot's chain back to the mines with actors, sites, incidents, risk, mass balance and
verification data, in a fixed handful of queries whatever the chain's length."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from libs.common.db import Executor
from services.traceability.domain.rules import exceeds_mass_balance
from services.traceability.proofs import checkpoints
from services.traceability.repository import custody_log, read_models
from services.traceability.repository import lots as lot_store
from services.traceability.schemas import custody_view as view

ACTOR_FIELDS = ("actor_id", "from_actor_id", "to_actor_id", "sender_id", "receiver_id")
VERIFY_COMMAND = (
    'curl -H "Authorization: Bearer $TOKEN" {base}/lots/{lot_id}/proof > bundle.json && '
    'curl -H "Authorization: Bearer $TOKEN" {base}/proof-key | jq -r .public_key > key.pem && '
    "python -m services.traceability.proofs verify bundle.json --key key.pem"
)


async def custody_view(db: Executor, lot_id: UUID, *, org_id: str, base_url: str = "") -> view.CustodyViewRead:
    lot = await lot_store.get_lot(db, lot_id, org_id=org_id)
    upstream = await lot_store.lineage(db, lot_id, org_id=org_id, direction="up")
    chain = [(lot, 0), *((row, row.depth) for row in upstream)]
    rows = await custody_log.list_events_of_lots(db, [r.lot_id for r, _ in chain], org_id=org_id)
    logged = [(row, json.loads(row.body)) for row in rows]
    events = [_event(row, facts) for row, facts in logged]
    actor_ids = {a for e in events for a in e.actor_ids}
    actor_ids |= {a for r, _ in chain for a in (r.producer_actor_id, r.custodian_actor_id) if a is not None}
    site_ids = {UUID(s) for r, _ in chain for s in r.origin_site_ids}
    actors = await read_models.actors_by_id(db, actor_ids, org_id=org_id)
    sites = await read_models.sites_by_id(db, site_ids, org_id=org_id)
    touching = {str(x) for x in (*actor_ids, *site_ids, *(r.lot_id for r, _ in chain))}
    incidents = [
        i
        for i in await read_models.list_open_incidents(db, org_id=org_id)
        if touching.intersection([*i.lot_ids, *i.site_ids, *i.actor_ids])
    ]
    score = (await read_models.scores_by_id(db, [lot_id], org_id=org_id)).get(lot_id)
    head = await checkpoints.find_latest(db, org_id=org_id)
    return view.CustodyViewRead(
        lot_id=lot_id,
        lots=[_lot(row, depth) for row, depth in chain],
        events=events,
        actors=[_actor(a, actors.get(a)) for a in sorted(actor_ids, key=str)],
        sites=[_site(s, sites.get(s)) for s in sorted(site_ids, key=str)],
        open_incidents=[view.ViewIncident.model_validate(i, from_attributes=True) for i in incidents],
        risk=_risk(score),
        mass_balance=[
            _balance(e, facts) for e, (_, facts) in zip(events, logged, strict=True) if e.kind == "transformation"
        ],
        verification=_verification(head, events, lot_id=lot_id, base_url=base_url),
    )


def _lot(row: Any, depth: int) -> view.ViewLot:
    return view.ViewLot.model_validate({**row._mapping, "depth": depth})


def _event(row: Any, facts: dict[str, Any]) -> view.ViewEvent:
    lots = facts.get("lots")
    by_role = {role: list(ids) for role, ids in lots.items()} if isinstance(lots, dict) else {}  # ids: pydantic's
    actors = sorted({str(facts[name]) for name in ACTOR_FIELDS if facts.get(name)})
    mass = facts.get("mass_kg")
    return view.ViewEvent(
        event_id=row.event_id, seq=row.seq, kind=row.kind, recorded_at=row.recorded_at,
        event_time=facts.get("event_time"), lot_ids=by_role, actor_ids=actors,
        from_actor_id=facts.get("from_actor_id"), to_actor_id=facts.get("to_actor_id"),
        mass_kg=float(mass) if _is_number(mass) else None, hash=row.hash,
        corrects_event_id=facts.get("corrects_event_id"),
    )  # fmt: skip


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, bool)


def _actor(actor_id: UUID, row: Any) -> view.ViewActor:
    if row is None:
        return view.ViewActor(actor_id=actor_id, legal_name=None, actor_type=None, country=None,
                              kyc_status="unknown", version=None, updated_at=None)  # fmt: skip
    return view.ViewActor.model_validate(row, from_attributes=True)


def _site(site_id: UUID, row: Any) -> view.ViewSite:
    if row is None:
        return view.ViewSite(site_id=site_id, name=None, country=None, region=None, status="unknown", version=None,
                             updated_at=None)  # fmt: skip
    return view.ViewSite.model_validate(row, from_attributes=True)


def _risk(row: Any) -> view.ViewRisk | None:
    if row is None:
        return None
    return view.ViewRisk(score=row.score, band=row.band, factors=row.factors or [], as_of=row.computed_at,
                         version=row.version)  # fmt: skip


def _balance(event: view.ViewEvent, facts: dict[str, Any]) -> view.MassBalance:
    inputs_kg = float(facts.get("input_mass_kg") or 0.0)
    outputs = facts.get("output_mass_kg") or []
    outputs_kg = float(sum(outputs) if isinstance(outputs, list) else outputs)
    yield_pct = facts.get("yield_pct")
    kind = facts.get("transformation")
    difference = (outputs_kg - inputs_kg) / inputs_kg * 100 if inputs_kg else 0.0
    within = inputs_kg > 0 and not exceeds_mass_balance(
        inputs_kg, outputs_kg, yield_pct=yield_pct if kind == "processing" else None
    )
    return view.MassBalance(
        event_id=event.event_id, transformation=kind, input_lot_ids=event.lot_ids.get("input", []),
        output_lot_ids=event.lot_ids.get("output", []), inputs_kg=inputs_kg, outputs_kg=outputs_kg,
        difference_pct=round(difference, 4), yield_pct=yield_pct, within_tolerance=within,
    )  # fmt: skip


def _verification(head: Any, events: list[view.ViewEvent], *, lot_id: UUID, base_url: str) -> view.Verification:
    last_seq = max((e.seq for e in events), default=-1)
    return view.Verification(
        checkpoint_tree_size=head.tree_size if head else None,
        checkpoint_root_hash=head.root_hash if head else None,
        checkpoint_signed_at=head.signed_at if head else None,
        covers_all_events=head is not None and head.tree_size > last_seq,
        proof_url=f"/lots/{lot_id}/proof",
        public_key_url="/proof-key",
        verify_command=VERIFY_COMMAND.format(base=base_url.rstrip("/"), lot_id=lot_id),
    )
