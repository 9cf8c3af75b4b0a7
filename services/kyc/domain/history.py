"""Field-level before/after of a change, in a form that stores as JSON."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID


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
    for field, new in after.items():
        old = jsonable(before.get(field))
        new = jsonable(new)
        if old != new:
            changes[field] = {"before": old, "after": new}
    return changes


def created(after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A new record: every field that holds something, from nothing."""
    return diff({}, {k: v for k, v in after.items() if v not in (None, [], {}, "")})


def removed(before: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: {"before": jsonable(v), "after": None} for k, v in before.items() if v not in (None, [], {}, "")}


def snapshot(record: object, fields: tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of a record, e.g. before a change."""
    return {field: getattr(record, field) for field in fields}
