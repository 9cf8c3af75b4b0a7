"""Watchlist use cases: create a list, import a file as a new snapshot (or recognise it as unchanged), read them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import outbox
from libs.common.auth import Principal
from libs.common.db import utcnow
from libs.common.errors import Invalid
from libs.common.pagination import Pagination
from libs.common.storage import ObjectStore
from services.kyc.domain import watchlists as lists
from services.kyc.domain.screening import SNAPSHOT, ScreeningRequest
from services.kyc.domain.watchlists import Snapshot, Watchlist
from services.kyc.repository import screening as screening_repository
from services.kyc.repository import watchlists as repository
from services.kyc.use_cases import history


@dataclass(frozen=True)
class ImportResult:
    snapshot: Snapshot
    created: bool  # False: the file changed nothing and the snapshot in force is answered


async def create_watchlist(
    db: AsyncSession, principal: Principal, *, name: str, fmt: str, source: str | None
) -> Watchlist:
    watchlist, event = Watchlist.create(
        org_id=principal.org_id, name=name, fmt=fmt, source=source, by=principal.user_id, now=utcnow()
    )
    await repository.save_watchlist(db, watchlist)  # a name taken already: 409 duplicate_watchlist
    outbox.add(db, event, key=watchlist.id)  # numbered by the domain: the list's snapshot version
    history.record(
        db,
        org_id=watchlist.org_id,
        user_id=principal.user_id,
        entity_type="watchlist",
        entity_id=watchlist.id,
        action="created",
        changes={"name": name, "format": fmt, "source": source},
    )
    return watchlist


async def list_watchlists(db: AsyncSession, principal: Principal) -> list[Watchlist]:
    return await repository.list_watchlists(db, org_id=principal.org_id)


async def get_watchlist(db: AsyncSession, principal: Principal, watchlist_id: UUID) -> Watchlist:
    """The list with the snapshot in force (none before the first import)."""
    return await repository.get_watchlist(db, watchlist_id, org_id=principal.org_id, with_current=True)


async def list_snapshots(
    db: AsyncSession, principal: Principal, watchlist_id: UUID, *, page: Pagination
) -> tuple[list[Snapshot], int]:
    watchlist = await repository.get_watchlist(db, watchlist_id, org_id=principal.org_id)
    return await repository.list_snapshots(db, watchlist.id, page=page)


async def import_snapshot(
    db: AsyncSession,
    principal: Principal,
    watchlist_id: UUID,
    *,
    data: bytes,
    store: ObjectStore,
    max_removal_share: float,
    confirm_removals: bool = False,
) -> ImportResult:
    """Parse the whole file first: a malformed one writes nothing and the snapshot in force stays. A file that
    removes more than `max_removal_share` of the entries in force needs `confirm_removals` (409 otherwise)."""
    if not data:
        raise Invalid("the file is empty", code="empty_file")
    watchlist = await repository.get_watchlist(
        db, watchlist_id, org_id=principal.org_id, for_update=True, with_current=True
    )
    current, digest = watchlist.current, lists.sha256(data)
    if current is not None and current.sha256 == digest:
        return ImportResult(current, created=False)
    entries = await asyncio.to_thread(lists.parse, watchlist.format, data)
    listed = await repository.current_fingerprints(db, watchlist.id)
    change = await asyncio.to_thread(lists.diff, listed, entries)
    if current is not None and change.empty:
        return ImportResult(current, created=False)
    lists.check_removals(change, listed=len(listed), max_share=max_removal_share, confirmed=confirm_removals)
    stored = await store.put(data, "application/octet-stream")
    snapshot, event = watchlist.import_snapshot(
        change, sha256=digest, object_key=stored.key, entry_count=len(entries), by=principal.user_id, now=utcnow()
    )
    await repository.save_watchlist(db, watchlist)
    await repository.save_snapshot(db, snapshot)
    await repository.save_entries(db, watchlist, change)
    # Every subject of the organisation meets the added and changed entries in the screening job.
    await screening_repository.save_request(
        db,
        ScreeningRequest(
            org_id=watchlist.org_id, subject_type=SNAPSHOT, subject_id=snapshot.id, requested_at=snapshot.imported_at
        ),
    )
    outbox.add(db, event, key=watchlist.id)  # numbered by the domain: the snapshot version, under the list's lock
    history.record(
        db,
        org_id=watchlist.org_id,
        user_id=principal.user_id,
        entity_type="watchlist",
        entity_id=watchlist.id,
        action="imported",
        changes={
            "version": snapshot.version,
            "sha256": digest,
            "entries": snapshot.entry_count,
            "added": snapshot.added_count,
            "changed": snapshot.changed_count,
            "removed": snapshot.removed_count,
        },
    )
    return ImportResult(snapshot, created=True)
