"""Record assembly shared by the importers: validation, interning, all-or-nothing collection."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable

from ..fields import clean, country_code, identifier, unique
from ..model import KINDS, ListEntry, MalformedList

RecordBuilder = Callable[[], "ListEntry | None"]


def make_entry(
    entry_id: str,
    kind: str,
    names: Iterable[str],
    *,
    birth_dates: Iterable[str] = (),
    countries: Iterable[str] = (),
    identifiers: Iterable[str] = (),
    programs: Iterable[str] = (),
    remarks: str = "",
) -> ListEntry:
    """Validate and canonicalise one record; ValueError says what is wrong with it."""
    entry_id = clean(entry_id)
    if not entry_id:
        raise ValueError("missing id")
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    clean_names = unique(clean(n) for n in names)
    if not clean_names:
        raise ValueError(f"entry {entry_id} has no name")
    # Interning: country codes, kinds and programs repeat across a million entries.
    return ListEntry(
        entry_id=entry_id,
        kind=sys.intern(kind),
        names=clean_names,
        birth_dates=unique(birth_dates),
        countries=unique(sys.intern(country_code(c)) for c in countries if clean(c)),
        identifiers=unique(identifier(i) for i in identifiers),
        programs=unique(sys.intern(clean(p)) for p in programs),
        remarks=clean(remarks),
    )


def collect(records: Iterable[tuple[str, RecordBuilder]]) -> list[ListEntry]:
    """Build every record or raise MalformedList for the first bad one (never partial)."""
    entries: list[ListEntry] = []
    seen: dict[str, str] = {}
    for location, build in records:
        try:
            entry = build()
        except MalformedList:
            raise
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise MalformedList(location, str(exc) or type(exc).__name__) from None
        if entry is None:
            continue
        if entry.entry_id in seen:
            raise MalformedList(location, f"duplicate id {entry.entry_id!r} (first at {seen[entry.entry_id]})")
        seen[entry.entry_id] = location
        entries.append(entry)
    return entries


def decode(data: bytes, location: str = "file") -> str:
    """UTF-8 (BOM tolerated) with newlines unified; anything else is a malformed list."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedList(location, f"not UTF-8 (byte {exc.start})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")
