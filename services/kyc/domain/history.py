"""The audit trail's entries, and the field-level before/after of a change in a form that stores as JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID, uuid4

SYSTEM = "system"  # user_id of changes made by scheduled jobs


@dataclass(frozen=True)
class AuditEntry:
    """Who changed what when; `actor_id` files the entry in that actor's history (its parts' entries too)."""

    org_id: str
    entity_type: str
    entity_id: str
    action: str
    user_id: str
    at: datetime
    changes: dict[str, Any] = field(default_factory=dict)
    actor_id: UUID | None = None
    id: UUID = field(default_factory=uuid4)


def jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """{field: {"before": old, "after": new}} for every field of `after` whose value changed."""
    changes = {}
    for name, value in after.items():
        old, new = jsonable(before.get(name)), jsonable(value)
        if old != new:
            changes[name] = {"before": old, "after": new}
    return changes


def created(after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A new record: every field that holds something, from nothing."""
    return diff({}, {k: v for k, v in after.items() if v not in (None, [], {}, "")})


def removed(before: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: {"before": jsonable(v), "after": None} for k, v in before.items() if v not in (None, [], {}, "")}
