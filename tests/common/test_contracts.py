"""Event contracts: CloudEvents on the wire, JSON Schemas and the AsyncAPI document kept current and valid."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from uuid import uuid4

import jsonschema
import yaml
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat

from libs.common.db import utcnow
from libs.common.events import REGISTRY, Envelope, asyncapi
from libs.common.events.kyc import ActorApproved, ActorState

OFFICIAL_SCHEMA = Path(__file__).parents[1] / "support" / "schemas" / "asyncapi-3.0.0.json"


def test_the_committed_asyncapi_document_and_schemas_match_the_code():
    assert asyncapi.stale_files() == [], "run `make asyncapi` and commit the result"


def test_the_asyncapi_document_is_valid_against_the_official_asyncapi_3_schema():
    document = yaml.safe_load(asyncapi.ASYNCAPI_PATH.read_text())
    jsonschema.validate(document, json.loads(OFFICIAL_SCHEMA.read_text()))
    assert {c["address"] for c in document["channels"].values()} == {cls.topic for cls in REGISTRY.values()}


def test_every_event_type_is_versioned_and_has_a_json_schema_its_payload_satisfies():
    actor_id = uuid4()
    state = ActorState(
        actor_id=actor_id,
        org_id="org-a",
        actor_type="trader",
        legal_name="X",
        country="CD",
        kyc_status="approved",
        risk_level="high",
        next_review_date=date(2027, 1, 1),
    )
    event = ActorApproved(org_id="org-a", actor_id=actor_id, actor=state, aggregate_version=4, approved_by="bob")
    schema = json.loads((asyncapi.SCHEMA_DIR / "ActorApproved.v1.json").read_text())
    jsonschema.validate(json.loads(event.model_dump_json()), schema)
    assert all(t.rsplit(".", 1)[1].startswith("v") for t in REGISTRY)


def test_an_envelope_is_a_cloudevent_any_sdk_reads_in_kafka_binary_mode():
    actor_id = uuid4()
    payload = {"org_id": "org-a", "actor_id": str(actor_id)}
    envelope = Envelope(
        event_id=str(uuid4()),
        event_type="ActorUpdated.v1",
        source="/assay/kyc",
        key=str(actor_id),
        time=utcnow(),
        payload=payload,
    )
    message = envelope.to_kafka()

    parsed = ce_kafka.from_binary(message, JSONFormat())

    assert parsed.get_attributes()["specversion"] == "1.0"
    assert parsed.get_attributes()["type"] == "ActorUpdated.v1"
    assert parsed.get_attributes()["subject"] == str(actor_id)
    assert message.key == str(actor_id)
    assert Envelope.from_kafka(message.headers, message.key.encode(), message.value).payload == payload
