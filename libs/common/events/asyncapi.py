"""Generates deploy/asyncapi.yaml (AsyncAPI 3.0) and deploy/schemas/events/*.json from the event classes.

`make asyncapi` writes them; a test fails when the committed files differ from what the code generates."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from libs.common.events import REGISTRY
from libs.common.events.base import SCHEMA_BASE, Event

ROOT = Path(__file__).resolve().parents[3]
ASYNCAPI_PATH = ROOT / "deploy" / "asyncapi.yaml"
SCHEMA_DIR = ROOT / "deploy" / "schemas" / "events"
CE_HEADERS = {
    "type": "object",
    "description": "CloudEvents 1.0 attributes, Kafka protocol binding, binary content mode",
    "required": ["ce_specversion", "ce_id", "ce_source", "ce_type"],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "description": "event id (UUID); consumers dedupe on it"},
        "ce_source": {"type": "string", "examples": ["/assay/kyc"]},
        "ce_type": {"type": "string", "description": "<EventName>.v<version>"},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {"type": "string", "description": "id of the aggregate, also the Kafka key"},
        "ce_dataschema": {"type": "string", "format": "uri"},
        "ce_partitionkey": {"type": "string"},
        "content-type": {"type": "string", "const": "application/json"},
    },
}


def event_schema(cls: type[Event]) -> dict[str, Any]:
    schema = cls.model_json_schema(mode="serialization")
    schema["$id"] = SCHEMA_BASE + cls.event_type() + ".json"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = cls.event_type()
    schema["description"] = (cls.__doc__ or "").strip() or f"{cls.__name__}, version {cls.version}"
    return schema


def _channel_id(topic: str) -> str:
    service = topic.split(".")[0]
    return f"{service}Events"


def document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for event_type, cls in sorted(REGISTRY.items()):
        schema = {k: v for k, v in event_schema(cls).items() if k not in ("$schema", "$id")}
        for name, definition in schema.pop("$defs", {}).items():
            schemas[name] = definition
        schemas[event_type] = schema
        messages[event_type] = {
            "name": event_type,
            "title": cls.__name__,
            "summary": schema["description"],
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
            "payload": {"$ref": f"#/components/schemas/{event_type}"},
            "bindings": {"kafka": {"key": {"type": "string", "description": "aggregate id"}}},
        }
        channel = channels.setdefault(
            _channel_id(cls.topic),
            {
                "address": cls.topic,
                "title": cls.topic,
                "description": f"Events of the {cls.topic.split('.')[0]} service, keyed by the aggregate id",
                "messages": {},
            },
        )
        channel["messages"][event_type] = {"$ref": f"#/components/messages/{event_type}"}
    schemas["CloudEventHeaders"] = CE_HEADERS
    for channel_id, channel in sorted(channels.items()):
        operations[f"publish{channel_id[0].upper()}{channel_id[1:]}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{m}"} for m in sorted(channel["messages"])],
        }
    text = json.dumps({"schemas": schemas})  # pydantic refs point at #/$defs/...; AsyncAPI keeps them in components
    schemas = json.loads(text.replace('"#/$defs/', '"#/components/schemas/'))["schemas"]
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Assay events",
            "version": "1.0.0",
            "description": "Every event Assay's services publish. Each Kafka message is a CloudEvents 1.0 "
            "event in binary content mode, keyed by the id of the aggregate it is about.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "embedded": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "make run: the local Tansu broker",
            },
            "compose": {
                "host": "kafka:9092",
                "protocol": "kafka",
                "description": "docker-compose: Apache Kafka (KRaft)",
            },
        },
        "channels": dict(sorted(channels.items())),
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def rendered() -> dict[Path, str]:
    files = {ASYNCAPI_PATH: yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=120)}
    for event_type, cls in sorted(REGISTRY.items()):
        files[SCHEMA_DIR / f"{event_type}.json"] = json.dumps(event_schema(cls), indent=2, sort_keys=True) + "\n"
    return files


def stale_files() -> list[Path]:
    on_disk = set(SCHEMA_DIR.glob("*.json")) if SCHEMA_DIR.exists() else set()
    expected = rendered()
    stale = [p for p, text in expected.items() if not p.exists() or p.read_text() != text]
    return stale + sorted(on_disk - set(expected))


def write() -> None:
    SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    expected = rendered()
    for path in SCHEMA_DIR.glob("*.json"):
        if path not in expected:
            path.unlink()
    for path, text in expected.items():
        path.write_text(text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="write the files (default: check they are current)")
    if parser.parse_args().write:
        write()
        print(f"wrote {ASYNCAPI_PATH.relative_to(ROOT)} and {len(REGISTRY)} event schemas")
    else:
        stale = stale_files()
        print("\n".join(str(p) for p in stale) or "up to date")
        sys.exit(1 if stale else 0)
