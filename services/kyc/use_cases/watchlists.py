"""Watchlist use cases: create a list, import a file as a new snapshot (or recognise it as unchanged)."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import outbox
from libs.common.db import utcnow
from libs.common.errors import Conflict, Invalid
from libs.common.events.kyc import WatchlistCreated, WatchlistImported
from libs.common.storage import ObjectStore
from services.kyc.domain import watchlists as lists
from services.kyc.domain.screening import SNAPSHOT
from services.kyc.repository import screening as screening_repository
from services.kyc.repository import watchlists as repository
from services.kyc.tables.screening import (
    ScreeningRequestRow,
    WatchlistRow,
    WatchlistSnapshotRow,
)
from services.kyc.use_cases import history


@dataclass(frozen=True)
class ImportResult:
    snapshot: WatchlistSnapshotRow
    created: bool  # False: the file changed nothing and the snapshot in force is answered


async def create_watchlist(db: AsyncSession, *, org_id: str, user_id: str, name: str, fmt: str,
                           source: str | None) -> WatchlistRow:
    if await repository.find_watchlist_by_name(db, name, org_id=org_id):
        raise Conflict(f"a watchlist named {name!r} exists already", code="duplicate_watchlist")
    row = WatchlistRow(id=uuid4(), org_id=org_id, name=name, format=fmt, source=source, version=0,
                       created_by=user_id, created_at=utcnow())
    repository.save_watchlist(db, row)
    outbox.add(db, WatchlistCreated(org_id=row.org_id, aggregate_version=row.version, watchlist_id=row.id, name=name,
                                    format=fmt), key=row.id)
    history.record(db, org_id=row.org_id, user_id=user_id, entity_type="watchlist", entity_id=row.id,
                   action="created", changes={"name": name, "format": fmt, "source": source})
    return row


async def list_watchlists(db: AsyncSession, *, org_id: str) -> list[WatchlistRow]:
    return await repository.list_watchlists(db, org_id=org_id)


async def get_watchlist(db: AsyncSession, watchlist_id: UUID, *,
                        org_id: str) -> tuple[WatchlistRow, WatchlistSnapshotRow | None]:
    """The list and the snapshot in force (None before the first import)."""
    row = await repository.get_watchlist(db, watchlist_id, org_id=org_id)
    return row, await repository.find_snapshot(db, row.id, row.version)


async def list_snapshots(db: AsyncSession, watchlist_id: UUID, *, org_id: str, limit: int,
                         offset: int) -> tuple[list[WatchlistSnapshotRow], int]:
    row = await repository.get_watchlist(db, watchlist_id, org_id=org_id)
    return await repository.list_snapshots(db, row.id, limit=limit, offset=offset)


async def import_snapshot(db: AsyncSession, watchlist_id: UUID, *, org_id: str, user_id: str, data: bytes,
                          store: ObjectStore) -> ImportResult:
    """Parse the whole file first: a malformed one writes nothing and the snapshot in force stays."""
    if not data:
        raise Invalid("the file is empty", code="empty_file")
    watchlist = await repository.get_watchlist(db, watchlist_id, org_id=org_id, for_update=True)
    current = await repository.find_snapshot(db, watchlist.id, watchlist.version)
    digest = lists.sha256(data)
    if current is not None and current.sha256 == digest:
        return ImportResult(current, created=False)
    entries = await asyncio.to_thread(lists.parse, watchlist.format, data)
    change = await asyncio.to_thread(lists.diff, await repository.current_fingerprints(db, watchlist.id), entries)
    if current is not None and change.empty:
        return ImportResult(current, created=False)
    stored = await store.put(data, "application/octet-stream")
    snapshot = await _write_snapshot(db, watchlist, change, user_id=user_id, sha256=digest,
                                     object_key=stored.key, entry_count=len(entries))
    return ImportResult(snapshot, created=True)


async def _write_snapshot(db: AsyncSession, watchlist: WatchlistRow, change: lists.SnapshotDiff, *,
                          user_id: str, sha256: str, object_key: str, entry_count: int) -> WatchlistSnapshotRow:
    version = watchlist.version + 1
    snapshot = WatchlistSnapshotRow(
        id=uuid4(), org_id=watchlist.org_id, watchlist_id=watchlist.id, version=version, sha256=sha256,
        object_key=object_key, entry_count=entry_count, added_count=len(change.added),
        changed_count=len(change.changed), removed_count=len(change.removed), imported_by=user_id,
        imported_at=utcnow())
    watchlist.version = version
    repository.save_watchlist(db, watchlist)
    repository.save_snapshot(db, snapshot)
    await db.flush()
    rows = await asyncio.to_thread(_entry_rows, watchlist, change, version)
    await repository.upsert_entries(db, rows)
    await repository.mark_removed(db, watchlist.id, change.removed, version=version)
    # Every subject of the organisation meets the added and changed entries in the screening job.
    screening_repository.save_request(db, ScreeningRequestRow(
        id=uuid4(), org_id=watchlist.org_id, subject_type=SNAPSHOT, subject_id=snapshot.id, status="pending",
        requested_at=snapshot.imported_at))
    # The snapshot version is the list's version: 0 at creation, one more per import, under the list's row lock.
    outbox.add(db, WatchlistImported(
        org_id=watchlist.org_id, aggregate_version=version, watchlist_id=watchlist.id, name=watchlist.name,
        format=watchlist.format, snapshot_id=snapshot.id, snapshot_version=version, sha256=sha256,
        entry_count=entry_count, added_count=snapshot.added_count, changed_count=snapshot.changed_count,
        removed_count=snapshot.removed_count), key=watchlist.id)
    history.record(db, org_id=watchlist.org_id, user_id=user_id, entity_type="watchlist",
                   entity_id=watchlist.id, action="imported",
                   changes={"version": version, "sha256": sha256, "entries": entry_count,
                            "added": snapshot.added_count, "changed": snapshot.changed_count,
                            "removed": snapshot.removed_count})
    return snapshot


def _entry_rows(watchlist: WatchlistRow, change: lists.SnapshotDiff, version: int) -> list[dict]:
    return [{"watchlist_id": watchlist.id, "entry_id": e.entry_id, "org_id": watchlist.org_id,
             "fingerprint": change.fingerprints[e.entry_id], "data": lists.entry_data(e),
             "first_seen_version": version, "changed_version": version, "removed": False}
            for e in (*change.added, *change.changed)]
