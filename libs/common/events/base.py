"""Event payloads and their CloudEvents 1.0 envelope on Kafka (binary content mode)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from pydantic import BaseModel, ConfigDict

SCHEMA_BASE = "https://assay.dev/schemas/events/"

# The fast path of Envelope.from_kafka takes only what the CloudEvents SDK would take, and reads it the same way:
# times as the SDK writes them (RFC 3339, UTC as Z or an offset), a JSON content type, extension names it allows.
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)")
_JSON_CONTENT_TYPE = re.compile(r"^(application|text)/([a-zA-Z0-9\-\.]+\+)?json(;.*)?$")  # the SDK's JSONFormat
_EXTENSION = re.compile(r"[a-z0-9]+")
_KNOWN_ATTRIBUTES = frozenset({"id", "source", "type", "specversion", "datacontenttype", "dataschema", "subject"})


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
        envelope = cls._from_kafka_fast(headers, key, value)
        return envelope if envelope is not None else cls._from_kafka_sdk(headers, key, value)

    @classmethod
    def _from_kafka_fast(
        cls, headers: list[tuple[str, bytes]] | dict[str, bytes], key: bytes | None, value: bytes | None
    ) -> Envelope | None:
        """The SDK's reading (from_binary, then the CloudEvent v1.0 checks) of a message it would accept, done
        directly: the SDK's object, its dateutil time parsing and its checks were most of a consumer's CPU per
        event. None for anything else (any doubt), which the SDK then reads, accepts or rejects as before."""
        attributes: dict[str, Any] = {}
        try:
            for name, raw in dict(headers).items():
                text, lower = raw.decode("utf-8"), name.lower()  # every header, as the SDK decodes them
                if lower.startswith("ce_"):
                    attributes[lower[3:]] = text
                elif lower == "content-type":
                    attributes["datacontenttype"] = text
            partition_key = key.decode("utf-8") if key is not None else None
        except (UnicodeDecodeError, AttributeError):
            return None
        if attributes.get("specversion") != "1.0" or not value:
            return None
        if not (attributes.get("id") and attributes.get("source") and attributes.get("type")):
            return None
        for name in ("subject", "datacontenttype", "dataschema"):
            if name in attributes and not attributes[name]:
                return None
        if not _JSON_CONTENT_TYPE.match(attributes.get("datacontenttype") or "application/json"):
            return None
        text = attributes.pop("time", None)  # the SDK makes up a time when there is none
        if text is None or not _TIME.fullmatch(text):
            return None
        try:
            time = datetime.fromisoformat(text)
        except ValueError:
            return None
        for name in attributes.keys() - _KNOWN_ATTRIBUTES:
            if name == "data" or not _EXTENSION.fullmatch(name):  # the SDK's rules for extension names
                return None
        try:
            data = json.loads(value.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict):
            return None
        return cls(
            event_id=attributes["id"],
            event_type=attributes["type"],
            source=attributes["source"],
            key=attributes.get("subject") or partition_key or "",
            time=time,
            payload=data,
            traceparent=attributes.get("traceparent"),
        )

    @classmethod
    def _from_kafka_sdk(
        cls, headers: list[tuple[str, bytes]] | dict[str, bytes], key: bytes | None, value: bytes | None
    ) -> Envelope:
        if not any(name.lower() == "ce_id" and raw for name, raw in dict(headers).items()):
            # The SDK makes up an id where there is none: a new one at each delivery, so the inbox could not see a
            # redelivery and would apply it again. The id is REQUIRED by CloudEvents: refused (dead-lettered).
            raise ValueError("not a CloudEvents message: no id")
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
