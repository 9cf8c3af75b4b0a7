"""Watchlists: list formats, entries as stored JSON, and what a new snapshot changes against the current one."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from libs.common.errors import Invalid
from services.kyc.screening.lists import ListEntry, MalformedList, parse_list

_TUPLE_FIELDS = ("names", "birth_dates", "countries", "identifiers", "programs")


@dataclass
class SnapshotDiff:
    """Entries a new file adds or changes, and ids it no longer lists."""

    added: list[ListEntry] = field(default_factory=list)
    changed: list[ListEntry] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)  # of added and changed entries

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


def parse(fmt: str, data: bytes) -> list[ListEntry]:
    """The file's entries; a malformed file is refused as a whole, saying which record failed."""
    try:
        return parse_list(fmt, data)
    except MalformedList as exc:
        raise Invalid(f"the list file is malformed at {exc.location}: {exc.reason}", code="malformed_list",
                      location=exc.location, reason=exc.reason) from None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def diff(current: dict[str, str], parsed: list[ListEntry]) -> SnapshotDiff:
    """Compare the current {entry_id: fingerprint} with a parsed file by fingerprints (each computed once: they
    cost a few microseconds apiece, i.e. seconds on a million entries)."""
    result = SnapshotDiff()
    listed = set()
    for entry in parsed:
        listed.add(entry.entry_id)
        fingerprint = entry.fingerprint
        before = current.get(entry.entry_id)
        if before != fingerprint:
            (result.changed if before else result.added).append(entry)
            result.fingerprints[entry.entry_id] = fingerprint
    result.removed = sorted(set(current) - listed)
    return result


def entry_data(entry: ListEntry) -> dict[str, Any]:
    # Plain attribute reads: dataclasses.asdict deep-copies and costs seconds on a million entries.
    data: dict[str, Any] = {name: list(getattr(entry, name)) for name in _TUPLE_FIELDS}
    data.update(entry_id=entry.entry_id, kind=entry.kind, remarks=entry.remarks)
    return data


def entry_from_data(data: dict[str, Any], *, entry_id: str | None = None) -> ListEntry:
    """The stored entry, optionally under another id (its index key)."""
    return ListEntry(entry_id=entry_id or data["entry_id"], kind=data["kind"], remarks=data.get("remarks", ""),
                     **{name: tuple(data.get(name, ())) for name in _TUPLE_FIELDS})


def index_key(watchlist_id: UUID, entry_id: str) -> str:
    """One engine index holds every list of an organisation; entry ids are only unique within a list."""
    return f"{watchlist_id}/{entry_id}"


def split_key(key: str) -> tuple[UUID, str]:
    watchlist_id, _, entry_id = key.partition("/")
    return UUID(watchlist_id), entry_id


def stored_entry(watchlist_id: UUID, data: dict[str, Any]) -> ListEntry:
    """A stored entry under its index key, for the engine; fingerprints always come from the stored row."""
    return entry_from_data(data, entry_id=index_key(watchlist_id, data["entry_id"]))
