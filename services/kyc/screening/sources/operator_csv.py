"""An operator's own watchlist as CSV: id,name,kind,aliases,birth_date,country,identifiers,program."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import TypeVar

from ..fields import parse_date
from ..model import ListEntry, MalformedList
from .base import collect, decode, make_entry

T = TypeVar("T")
REQUIRED = ("id", "name")
COLUMNS = ("id", "name", "kind", "aliases", "birth_date", "country", "identifiers", "program")
_KIND_WORDS = {
    "": "person",
    "person": "person",
    "individual": "person",
    "organization": "organization",
    "organisation": "organization",
    "entity": "organization",
    "company": "organization",
    "vessel": "vessel",
    "other": "other",
}


def parse_csv(data: bytes) -> list[ListEntry]:
    """Header row required; list-valued cells (aliases, identifiers, country, program) split on ';'."""
    # strict: a quote left open is an error, not a cell that swallows the rest of the file.
    reader = csv.DictReader(io.StringIO(decode(data)), strict=True)
    header = [h.strip().casefold() for h in _read(reader, lambda: reader.fieldnames) or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise MalformedList("line 1", f"missing required column(s): {', '.join(missing)}")
    reader.fieldnames = header
    records = []
    rows = iter(reader)
    while (row := _read(reader, lambda: next(rows, None))) is not None:
        if None in row:
            raise MalformedList(f"line {reader.line_num}", "more cells than header columns")
        if any((v or "").strip() for v in row.values()):
            records.append((f"line {reader.line_num}", lambda r=row: _row(r)))
    return collect(records)


def _read(reader: csv.DictReader[str], step: Callable[[], T]) -> T:
    """One step of the reader; broken CSV (an unterminated quote...) names the line its record starts on."""
    start = reader.line_num + 1
    try:
        return step()
    except csv.Error as exc:
        raise MalformedList(f"line {start}", f"not valid CSV: {exc}") from None


def _split(cell: str | None) -> list[str]:
    return [part.strip() for part in (cell or "").split(";") if part.strip()]


def _row(row: dict[str, str | None]) -> ListEntry:
    if not (row.get("id") or "").strip() or not (row.get("name") or "").strip():
        raise ValueError("empty id or name")
    kind_word = (row.get("kind") or "").strip().casefold()
    if kind_word not in _KIND_WORDS:
        raise ValueError(f"unknown kind {kind_word!r}")
    return make_entry(
        row["id"] or "",
        _KIND_WORDS[kind_word],
        [row["name"] or "", *_split(row.get("aliases"))],
        birth_dates=[parse_date(d) for d in _split(row.get("birth_date"))],
        countries=_split(row.get("country")),
        identifiers=_split(row.get("identifiers")),
        programs=_split(row.get("program")),
    )
