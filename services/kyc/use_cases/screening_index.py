"""The worker's in-memory engine indexes, one per organisation, kept in step with the list snapshots in the DB."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.kyc.domain import watchlists as lists
from services.kyc.domain.watchlists import EntryChange
from services.kyc.repository import watchlists as repository
from services.kyc.screening.matcher import ScreeningIndex

log = logging.getLogger("assay.kyc.screening")


@dataclass
class OrgIndex:
    """Every live entry of an organisation's lists, and the snapshot version of each list it reflects."""

    index: ScreeningIndex = field(default_factory=ScreeningIndex)
    versions: dict[UUID, int] = field(default_factory=dict)


class ScreeningIndexes:
    """Built lazily from the database, then caught up by reading only the entries of newer snapshots.

    The database is the truth: a fresh process (or a cache that finds lists it does not know, or versions
    ahead of the database) rebuilds from it, so a restart never leaves the index stale."""

    def __init__(self) -> None:
        self._orgs: dict[str, OrgIndex] = {}

    async def for_org(self, db: AsyncSession, org_id: str) -> ScreeningIndex:
        versions = await repository.list_versions(db, org_id=org_id)
        held = self._orgs.get(org_id)
        if held is None or not _consistent(held.versions, versions):
            held = self._orgs[org_id] = OrgIndex()
        for watchlist_id, version in versions.items():
            have = held.versions.get(watchlist_id, 0)
            if version != have:
                await _catch_up(db, held.index, watchlist_id, have)
                held.versions[watchlist_id] = version
        return held.index


def _consistent(held: dict[UUID, int], current: dict[UUID, int]) -> bool:
    # Lists are never deleted and versions only grow; anything else means the database is not the one we read.
    return all(w in current and current[w] >= v for w, v in held.items())


async def _catch_up(db: AsyncSession, index: ScreeningIndex, watchlist_id: UUID, have: int) -> None:
    rows = await repository.entries_changed_after(db, watchlist_id, have)
    await asyncio.to_thread(_apply, index, watchlist_id, rows)
    log.info("screening index caught up", extra={"watchlist_id": str(watchlist_id), "entries": len(rows)})


def _apply(index: ScreeningIndex, watchlist_id: UUID, rows: list[EntryChange]) -> None:
    """Idempotent: re-reading a snapshot already applied replaces entries with themselves."""
    for row in rows:
        if row.removed:
            index.remove(lists.index_key(watchlist_id, row.entry_id))
        else:
            index.add(lists.stored_entry(watchlist_id, row.data))


def delta_index(watchlist_id: UUID, rows: list[EntryChange]) -> ScreeningIndex:
    """An index of just the entries one snapshot added or changed."""
    return ScreeningIndex(lists.stored_entry(watchlist_id, r.data) for r in rows)
