"""FollowTheMoney JSON-lines importer (OpenSanctions exports)."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from ..fields import parse_date
from ..model import ListEntry
from .base import collect, decode, make_entry

SCHEMA_KINDS = {
    "Person": "person",
    "Company": "organization",
    "Organization": "organization",
    "LegalEntity": "organization",
    "PublicBody": "organization",
    "Vessel": "vessel",
}
_ID_PROPS = (
    "registrationNumber",
    "idNumber",
    "taxNumber",
    "passportNumber",
    "innCode",
    "ogrnCode",
    "leiCode",
    "imoNumber",
    "vatCode",
)
_COUNTRY_PROPS = ("nationality", "citizenship", "country", "jurisdiction")


def parse_ftm_jsonl(data: bytes) -> list[ListEntry]:
    """One entity per line; schemas other than parties (Address, Sanction, ...) are skipped."""
    lines = decode(data).split("\n")
    return collect((f"line {n}", partial(_entity, line)) for n, line in enumerate(lines, 1) if line.strip())


def _entity(line: str) -> ListEntry | None:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise TypeError("not a JSON object")
    schema = obj.get("schema")
    if not isinstance(schema, str) or not isinstance(obj.get("id"), str):
        raise TypeError("missing 'id' or 'schema'")
    if schema not in SCHEMA_KINDS:
        return None
    props = _properties(obj.get("properties", {}))
    caption = obj.get("caption") if isinstance(obj.get("caption"), str) else ""
    names = [n for n in (caption, *props.get("name", ())) if n]
    if not names:
        raise ValueError(f"{schema} {obj['id']} has no name")
    return make_entry(
        obj["id"],
        SCHEMA_KINDS[schema],
        [*names, *props.get("alias", ()), *props.get("weakAlias", ())],
        birth_dates=[parse_date(d) for d in props.get("birthDate", ())],
        countries=[c for p in _COUNTRY_PROPS for c in props.get(p, ())],
        identifiers=[i for p in _ID_PROPS for i in props.get(p, ())],
        programs=[*props.get("program", ()), *props.get("topics", ())],
        remarks=" ".join(props.get("notes", ())),
    )


def _properties(raw: Any) -> dict[str, list[str]]:
    if not isinstance(raw, dict):
        raise TypeError("'properties' is not an object")
    for key, values in raw.items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise TypeError(f"property {key!r} is not a list of strings")
    return raw
