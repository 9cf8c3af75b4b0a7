"""Envelope.from_kafka reads what we publish without the CloudEvents SDK's object, and gives for every message,
well-formed or not, the same envelope or the same refusal (ValueError: the consumer dead-letters it) as the SDK."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from libs.common.events.base import Envelope

TIME = datetime(2026, 12, 3, 8, 36, 12, 345678, tzinfo=UTC)


def published(**overrides: Any) -> tuple[dict[str, bytes], bytes | None, bytes | None]:
    envelope = Envelope(
        event_id="6f1c2e1a-0000-4000-8000-000000000001",
        event_type="ActorSuspended.v1",
        source="/assay/kyc",
        key="a2d9c1f0-0000-4000-8000-000000000002",
        time=TIME,
        payload=b'{"org_id": "org-a", "aggregate_version": 3}',
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )
    message = envelope.to_kafka()
    headers = dict(message.headers)
    key = message.key.encode() if isinstance(message.key, str) else message.key
    return headers, key, message.value


def variant(
    headers: dict[str, bytes | None] | None = None,
    *,
    drop: tuple[str, ...] = (),
    key: Any = "same",
    value: Any = "same",
) -> tuple[dict[str, Any], Any, Any]:
    base_headers, base_key, base_value = published()
    merged: dict[str, Any] = {k: v for k, v in base_headers.items() if k not in drop}
    merged.update(headers or {})
    return merged, base_key if key == "same" else key, base_value if value == "same" else value


def outcome(read: Any, message: tuple[Any, Any, Any]) -> Any:
    try:
        envelope = read(list(message[0].items()), message[1], message[2])
    except ValueError:
        return "refused"
    # Without a time the SDK makes one up (a new one each time): compared as "made up". Without an id it would make
    # one up too, which we refuse (an id made up anew at each delivery defeats the inbox).
    made_up = {"time": "made up"} if "ce_time" not in message[0] else {}
    return dataclasses.replace(envelope, **made_up)


CASES = {
    "as published": variant(),
    "no trace": variant(drop=("ce_traceparent",)),
    "no time": variant(drop=("ce_time",)),
    "no subject: the key stands in": variant(drop=("ce_subject",)),
    "no subject and no key": variant(drop=("ce_subject",), key=None),
    "an offset instead of Z": variant({"ce_time": b"2026-12-03T09:36:12+01:00"}),
    "time in milliseconds": variant({"ce_time": b"2026-12-03T08:36:12.345Z"}),
    "time in nanoseconds": variant({"ce_time": b"2026-12-03T08:36:12.345678901Z"}),
    "time without a zone": variant({"ce_time": b"2026-12-03T08:36:12"}),
    "time not a time": variant({"ce_time": b"yesterday"}),
    "time empty": variant({"ce_time": b""}),
    "no id": variant(drop=("ce_id",)),
    "empty id": variant({"ce_id": b""}),
    "no source": variant(drop=("ce_source",)),
    "no type": variant(drop=("ce_type",)),
    "no specversion": variant(drop=("ce_specversion",)),
    "specversion 0.3": variant({"ce_specversion": b"0.3"}),
    "specversion 2.0": variant({"ce_specversion": b"2.0"}),
    "empty subject": variant({"ce_subject": b""}),
    "empty dataschema": variant({"ce_dataschema": b""}),
    "another JSON content type": variant({"content-type": b"application/cloudevents+json; charset=utf-8"}),
    "no content type": variant(drop=("content-type",)),
    "text content": variant({"content-type": b"text/plain"}),
    "empty content type": variant({"content-type": b""}),
    "upper-case header names": variant({"CE_ID": b"6f1c2e1a-0000-4000-8000-000000000009"}),
    "an extension": variant({"ce_tenant": b"org-a"}),
    "an extension named data": variant({"ce_data": b"x"}),
    "an extension with a dash": variant({"ce_tenant-id": b"x"}),
    "an extension with no name": variant({"ce_": b"x"}),
    "a header that is not UTF-8": variant({"x-other": b"\xff\xfe"}),
    "an attribute that is not UTF-8": variant({"ce_source": b"\xff"}),
    "a header without a value": variant({"x-other": None}),
    "a key that is not UTF-8": variant(key=b"\xff"),
    "payload not JSON": variant(value=b"{not json"),
    "payload a JSON list": variant(value=b"[1, 2]"),
    "payload a JSON string": variant(value=b'"text"'),
    "payload empty": variant(value=b""),
    "payload missing": variant(value=None),
    "payload not UTF-8": variant(value=b'{"a": "\xff"}'),
}


@pytest.mark.parametrize("name", list(CASES))
def test_every_message_is_read_or_refused_as_the_cloudevents_sdk_does(name: str) -> None:
    message = CASES[name]
    assert outcome(Envelope.from_kafka, message) == outcome(Envelope._from_kafka_sdk, message)


def test_what_we_publish_takes_the_fast_path_and_reads_back_whole() -> None:
    headers, key, value = published()
    envelope = Envelope._from_kafka_fast(list(headers.items()), key, value)
    assert envelope is not None
    assert envelope == Envelope._from_kafka_sdk(list(headers.items()), key, value)
    assert (envelope.event_id, envelope.event_type, envelope.source, envelope.time) == (
        "6f1c2e1a-0000-4000-8000-000000000001",
        "ActorSuspended.v1",
        "/assay/kyc",
        TIME,
    )
    assert envelope.payload == {"org_id": "org-a", "aggregate_version": 3}
    assert envelope.traceparent == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.mark.parametrize(
    "name",
    [
        "empty id",
        "no id",
        "no source",
        "time without a zone",
        "an extension named data",
        "payload a JSON list",
        "payload not JSON",
    ],
)
def test_malformed_messages_are_still_refused(name: str) -> None:
    assert outcome(Envelope.from_kafka, CASES[name]) == "refused"
