"""A lot's history exported as EPCIS 2.0 validates against GS1's EPCIS JSON Schema."""

from __future__ import annotations

import json
import os
from pathlib import Path
from uuid import uuid4

import pytest
from jsonschema import Draft7Validator, FormatChecker

from services.traceability.repository import custody_log

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = Path(os.environ.get("EPCIS_REFERENCE_DIR") or ROOT.parent / "shared" / "reference" / "epcis")
SCHEMA = REFERENCE / "EPCIS-JSON-Schema.json"
pytestmark = pytest.mark.skipif(not SCHEMA.exists(), reason=f"GS1's EPCIS schema is not at {REFERENCE}")


async def append(stack, kind, lots, **content):  # type: ignore[no-untyped-def]
    async with stack.sessions("traceability")() as db, db.begin():
        await custody_log.append_event(db, org_id="org-a", event_id=uuid4(), kind=kind, content=content, lots=lots)


def validator() -> Draft7Validator:
    return Draft7Validator(json.loads(SCHEMA.read_text()), format_checker=FormatChecker())


def test_gs1s_own_examples_validate_so_the_schema_is_read_right():
    for example in REFERENCE.glob("Example_*.jsonld"):
        assert list(validator().iter_errors(json.loads(example.read_text()))) == [], example.name


async def test_a_merged_and_shipped_lot_exports_as_valid_epcis(stack):
    a, b, merged = uuid4(), uuid4(), uuid4()
    site, trader, exporter = uuid4(), uuid4(), uuid4()
    await append(stack, "creation", [(a, "subject")], mass_kg="40.5", unit="KGM", site_id=str(site))
    await append(stack, "creation", [(b, "subject")], mass_kg="20", unit="KGM", site_id=str(site))
    await append(stack, "transfer_initiated", [(a, "subject")], from_actor_id=str(trader), to_actor_id=str(exporter))
    await append(stack, "transfer_confirmed", [(a, "subject")], from_actor_id=str(trader), to_actor_id=str(exporter))
    await append(stack, "transformation", [(a, "input"), (b, "input"), (merged, "output")],
                 masses={str(a): "40.5", str(b): "20", str(merged): "60"})  # fmt: skip
    client = stack.client("traceability", stack.token())

    response = await client.get(f"/lots/{merged}/epcis")

    assert response.status_code == 200
    document = response.json()
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator().iter_errors(document)]
    assert errors == []
    events = document["epcisBody"]["eventList"]
    assert [(e["type"], e.get("action"), e["bizStep"]) for e in events] == [
        ("ObjectEvent", "ADD", "commissioning"),
        ("ObjectEvent", "ADD", "commissioning"),
        ("ObjectEvent", "OBSERVE", "shipping"),
        ("ObjectEvent", "OBSERVE", "receiving"),
        ("TransformationEvent", None, "other"),
    ]
    assert events[0]["quantityList"] == [{"epcClass": f"urn:assay:lot:{a}", "quantity": 40.5, "uom": "KGM"}]
    assert events[0]["readPoint"] == {"id": f"urn:assay:site:{site}"}
    assert events[2]["sourceList"] == [{"type": "owning_party", "source": f"urn:assay:actor:{trader}"}]
    assert events[4]["outputQuantityList"] == [{"epcClass": f"urn:assay:lot:{merged}", "quantity": 60.0, "uom": "KGM"}]


async def test_another_organisations_lot_answers_404(stack):
    lot = uuid4()
    await append(stack, "creation", [(lot, "subject")])
    stranger = stack.client("traceability", stack.token(org="org-b"))

    assert (await stranger.get(f"/lots/{lot}/epcis")).status_code == 404
