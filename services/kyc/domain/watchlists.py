"""Watchlists: list formats, entries as stored JSON, and what a new snapshot changes against the current one."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID, uuid4

from libs.common.errors import Conflict, Invalid
from libs.common.events.kyc import WatchlistCreated, WatchlistImported
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
        raise Invalid(
            f"the list file is malformed at {exc.location}: {exc.reason}",
            code="malformed_list",
            location=exc.location,
            reason=exc.reason,
        ) from None


def check_removals(change: SnapshotDiff, *, listed: int, max_share: float, confirmed: bool) -> None:
    """A file that drops more than `max_share` of the `listed` entries (an empty export, a truncated download) must
    be confirmed before it replaces the list in force."""
    removed = len(change.removed)
    if confirmed or listed == 0 or removed <= max_share * listed:
        return
    raise Conflict(
        f"the file removes {removed} of the {listed} entries in force (more than {max_share:.0%}); "
        "import it again with confirm_removals=true if that is meant",
        code="confirmation_required",
        listed=listed,
        removed=removed,
        added=len(change.added),
        changed=len(change.changed),
        max_removal_share=max_share,
    )


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
    return ListEntry(
        entry_id=entry_id or data["entry_id"],
        kind=data["kind"],
        remarks=data.get("remarks", ""),
        **{name: tuple(data.get(name, ())) for name in _TUPLE_FIELDS},
    )


def index_key(watchlist_id: UUID, entry_id: str) -> str:
    """One engine index holds every list of an organisation; entry ids are only unique within a list."""
    return f"{watchlist_id}/{entry_id}"


def split_key(key: str) -> tuple[UUID, str]:
    watchlist_id, _, entry_id = key.partition("/")
    return UUID(watchlist_id), entry_id


def stored_entry(watchlist_id: UUID, data: dict[str, Any]) -> ListEntry:
    """A stored entry under its index key, for the engine; fingerprints always come from the stored row."""
    return entry_from_data(data, entry_id=index_key(watchlist_id, data["entry_id"]))


class EntryChange(NamedTuple):
    """A stored entry as a snapshot left it, for an engine index catching up."""

    entry_id: str
    data: dict[str, Any]
    removed: bool


@dataclass(frozen=True)
class Snapshot:
    """One imported file: a new version only when at least one entry was added, changed or removed."""

    id: UUID
    org_id: str
    watchlist_id: UUID
    version: int
    sha256: str
    object_key: str
    entry_count: int
    added_count: int
    changed_count: int
    removed_count: int
    imported_by: str
    imported_at: datetime


@dataclass
class Watchlist:
    """One organisation's list (UN, OFAC, OpenSanctions export, own list); `version` is the snapshot in force,
    and the version of its events."""

    id: UUID
    org_id: str
    name: str
    format: str
    created_by: str
    created_at: datetime
    source: str | None = None
    version: int = 0
    current: Snapshot | None = None  # the snapshot in force, when read with it

    @classmethod
    def create(
        cls, *, org_id: str, name: str, fmt: str, source: str | None, by: str, now: datetime
    ) -> tuple[Watchlist, WatchlistCreated]:
        watchlist = cls(id=uuid4(), org_id=org_id, name=name, format=fmt, source=source, created_by=by, created_at=now)
        return watchlist, WatchlistCreated(
            org_id=org_id, aggregate_version=watchlist.version, watchlist_id=watchlist.id, name=name, format=fmt
        )

    def import_snapshot(
        self, change: SnapshotDiff, *, sha256: str, object_key: str, entry_count: int, by: str, now: datetime
    ) -> tuple[Snapshot, WatchlistImported]:
        """The next snapshot is in force (the caller holds the list's lock, so versions only grow)."""
        self.version += 1
        snapshot = Snapshot(
            id=uuid4(),
            org_id=self.org_id,
            watchlist_id=self.id,
            version=self.version,
            sha256=sha256,
            object_key=object_key,
            entry_count=entry_count,
            added_count=len(change.added),
            changed_count=len(change.changed),
            removed_count=len(change.removed),
            imported_by=by,
            imported_at=now,
        )
        self.current = snapshot
        return snapshot, WatchlistImported(
            org_id=self.org_id,
            aggregate_version=self.version,
            watchlist_id=self.id,
            name=self.name,
            format=self.format,
            snapshot_id=snapshot.id,
            snapshot_version=self.version,
            sha256=sha256,
            entry_count=entry_count,
            added_count=snapshot.added_count,
            changed_count=snapshot.changed_count,
            removed_count=snapshot.removed_count,
        )
