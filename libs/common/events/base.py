"""Event payloads and their CloudEvents 1.0 envelope on Kafka (binary content mode)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from pydantic import BaseModel, ConfigDict

SCHEMA_BASE = "https://assay.dev/schemas/events/"


class Event(BaseModel):
    """A past-tense fact one service tells the others. Adding an optional field is safe; renaming or removing
    one means a new `version`, published beside the old one until every consumer has moved."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    topic: ClassVar[str]
    version: ClassVar[int] = 1
    type_name: ClassVar[str | None] = None  # set when a v2 class must keep the v1 class's name

    @classmethod
    def event_type(cls) -> str:
        return f"{cls.type_name or cls.__name__}.v{cls.version}"

    @classmethod
    def source(cls) -> str:
        return "/assay/" + cls.topic.split(".")[0]


@dataclass(frozen=True)
class Envelope:
    """What travels: CloudEvents attributes around the event's JSON payload, keyed by the aggregate id."""

    event_id: str
    event_type: str
    source: str
    key: str
    time: datetime | None  # always set on what we send; optional in CloudEvents, so maybe not on what we read
    payload: dict[str, Any] | bytes  # bytes: JSON already serialised (the relay sends the outbox text as is)
    traceparent: str | None = None  # W3C trace context (CloudEvents distributed-tracing extension)

    def to_kafka(self) -> ce_kafka.KafkaMessage:
        attributes: dict[str, Any] = {
            "id": self.event_id,
            "source": self.source,
            "type": self.event_type,
            "specversion": "1.0",
            "time": self.time,
            "subject": self.key,
            "datacontenttype": "application/json",
            "dataschema": SCHEMA_BASE + self.event_type + ".json",
            "partitionkey": self.key,
        }
        if self.traceparent:
            attributes["traceparent"] = self.traceparent
        event = CloudEvent(attributes=attributes, data=self.payload)
        return ce_kafka.to_binary(event, JSONFormat())

    @classmethod
    def from_kafka(
        cls, headers: list[tuple[str, bytes]] | dict[str, bytes], key: bytes | None, value: bytes | None
    ) -> Envelope:
        """Raises ValueError when the message is not a CloudEvent with a JSON object payload."""
        message = ce_kafka.KafkaMessage(headers=dict(headers), key=key, value=value or b"")
        try:
            event = ce_kafka.from_binary(message, JSONFormat())
        except Exception as exc:  # the SDK raises several types for one cause: not a CloudEvent
            raise ValueError(f"not a CloudEvents message: {exc}") from exc
        data = event.get_data()
        if isinstance(data, (bytes, str)):
            data = json.loads(data)
        if not isinstance(data, dict):
            raise ValueError("CloudEvent data is not a JSON object")
        attrs = event.get_attributes()
        return cls(
            event_id=str(attrs["id"]),
            event_type=str(attrs["type"]),
            source=str(attrs["source"]),
            key=str(attrs.get("subject") or (key or b"").decode()),
            time=attrs.get("time"),
            payload=data,
            traceparent=attrs.get("traceparent"),
        )


def new_event_id() -> str:
    return str(uuid4())


def key_of(value: UUID | str) -> str:
    return str(value)
