"""Watchlists, their snapshots and current entries as stored; reads are scoped to the caller's organisation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import dialect_of, insert, upsert
from libs.common.errors import Conflict, NotFound
from libs.common.pagination import Pagination, fetch_page
from services.kyc.domain.screening import EntryFacts
from services.kyc.domain.watchlists import (
    EntryChange,
    Snapshot,
    SnapshotDiff,
    Watchlist,
    entry_data,
)
from services.kyc.repository.rows import column_values, from_row, unique_violation
from services.kyc.tables.screening import (
    ScreeningHitRow,
    WatchlistEntryRow,
    WatchlistRow,
    WatchlistSnapshotRow,
)

Watchlists, Snapshots = WatchlistRow.__table__, WatchlistSnapshotRow.__table__
Entries, Hits = WatchlistEntryRow.__table__, ScreeningHitRow.__table__
CHUNK = 5000  # rows per statement: bounded parameter counts on every backend
UPDATED = ("fingerprint", "data", "changed_version", "removed")


async def get_watchlist(
    db: AsyncSession, watchlist_id: UUID, *, org_id: str, for_update: bool = False, with_current: bool = False
) -> Watchlist:
    """A list of the caller's organisation; `for_update` serialises imports into the same list, `with_current`
    reads the snapshot in force with it."""
    query = sa.select(Watchlists).where(Watchlists.c.id == watchlist_id, Watchlists.c.org_id == org_id)
    if for_update:
        query = query.with_for_update()
    row = (await db.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"watchlist {watchlist_id} not found", code="watchlist_not_found")
    watchlist = from_row(Watchlist, row)
    if with_current:
        watchlist.current = await find_snapshot(db, watchlist.id, watchlist.version)
    return watchlist


async def list_watchlists(db: AsyncSession, *, org_id: str) -> list[Watchlist]:
    """The organisation's lists, each with the snapshot in force (as one list is read)."""
    query = sa.select(Watchlists).where(Watchlists.c.org_id == org_id).order_by(Watchlists.c.name)
    watchlists = [from_row(Watchlist, r) for r in (await db.execute(query)).all()]
    in_force = {(w.id, w.version) for w in watchlists if w.version > 0}
    if in_force:
        snapshots = sa.select(Snapshots).where(sa.tuple_(Snapshots.c.watchlist_id, Snapshots.c.version).in_(in_force))
        current = {(r.watchlist_id, r.version): from_row(Snapshot, r) for r in (await db.execute(snapshots)).all()}
        for watchlist in watchlists:
            watchlist.current = current.get((watchlist.id, watchlist.version))
    return watchlists


async def list_versions(db: AsyncSession, *, org_id: str) -> dict[UUID, int]:
    """{watchlist id: version in force} of an organisation's lists."""
    query = sa.select(Watchlists.c.id, Watchlists.c.version).where(Watchlists.c.org_id == org_id)
    return {r.id: r.version for r in (await db.execute(query)).all()}


async def save_watchlist(db: AsyncSession, watchlist: Watchlist) -> None:
    try:
        await upsert(db, Watchlists, column_values(watchlist, Watchlists), keys=["id"])
    except IntegrityError as exc:
        if unique_violation(exc) == "uq_watchlist_org_name":
            raise Conflict(f"a watchlist named {watchlist.name!r} exists already", code="duplicate_watchlist") from exc
        raise


async def find_snapshot(db: AsyncSession, watchlist_id: UUID, version: int) -> Snapshot | None:
    query = sa.select(Snapshots).where(Snapshots.c.watchlist_id == watchlist_id, Snapshots.c.version == version)
    row = (await db.execute(query)).one_or_none()
    return None if row is None else from_row(Snapshot, row)


async def find_snapshot_by_id(db: AsyncSession, snapshot_id: UUID) -> Snapshot | None:
    row = (await db.execute(sa.select(Snapshots).where(Snapshots.c.id == snapshot_id))).one_or_none()
    return None if row is None else from_row(Snapshot, row)


async def list_snapshots(db: AsyncSession, watchlist_id: UUID, *, page: Pagination) -> tuple[list[Snapshot], int]:
    query = sa.select(Snapshots).where(Snapshots.c.watchlist_id == watchlist_id).order_by(Snapshots.c.version.desc())
    rows, total = await fetch_page(db, query, page)
    return [from_row(Snapshot, r) for r in rows], total


async def current_snapshot_ids(db: AsyncSession, *, org_id: str) -> list[UUID]:
    """The snapshot in force of each of an organisation's lists."""
    query = (
        sa.select(Snapshots.c.id)
        .join(
            Watchlists,
            sa.and_(Watchlists.c.id == Snapshots.c.watchlist_id, Watchlists.c.version == Snapshots.c.version),
        )
        .where(Watchlists.c.org_id == org_id)
        .order_by(Snapshots.c.id)
    )
    return list((await db.execute(query)).scalars())


async def save_snapshot(db: AsyncSession, snapshot: Snapshot) -> None:
    await db.execute(sa.insert(Snapshots).values(**column_values(snapshot, Snapshots)))


async def current_fingerprints(db: AsyncSession, watchlist_id: UUID) -> dict[str, str]:
    query = sa.select(Entries.c.entry_id, Entries.c.fingerprint).where(
        Entries.c.watchlist_id == watchlist_id, Entries.c.removed.is_(False)
    )
    return {r.entry_id: r.fingerprint for r in (await db.execute(query)).all()}


async def save_entries(db: AsyncSession, watchlist: Watchlist, change: SnapshotDiff) -> None:
    """What the snapshot in force (the list's version) added, changed and no longer lists."""
    rows = await asyncio.to_thread(_entry_rows, watchlist, change)
    await _upsert_entries(db, rows)
    await _mark_removed(db, watchlist.id, change.removed, version=watchlist.version)


def _entry_rows(watchlist: Watchlist, change: SnapshotDiff) -> list[dict[str, Any]]:
    return [
        {
            "watchlist_id": watchlist.id,
            "entry_id": e.entry_id,
            "org_id": watchlist.org_id,
            "fingerprint": change.fingerprints[e.entry_id],
            "data": entry_data(e),
            "first_seen_version": watchlist.version,
            "changed_version": watchlist.version,
            "removed": False,
        }
        for e in (*change.added, *change.changed)
    ]


async def _upsert_entries(db: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert new entries, or overwrite changed (or re-listed) ones; first_seen_version is kept."""
    if not rows:
        return
    if dialect_of(db) == "postgresql":
        await _copy_upsert(db, rows)
        return
    for start in range(0, len(rows), CHUNK):
        statement = insert(dialect_of(db), Entries)
        statement = statement.on_conflict_do_update(
            index_elements=[Entries.c.watchlist_id, Entries.c.entry_id],
            set_={c: statement.excluded[c] for c in UPDATED},
        )
        await db.execute(statement, list(rows[start : start + CHUNK]))


async def _copy_upsert(db: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    # COPY into a temporary table, then one INSERT ... ON CONFLICT: a million-entry list in seconds, where
    # row-by-row parameters take minutes. Same connection, so the caller's transaction covers it.
    columns = [c.name for c in Entries.columns]
    await db.execute(sa.text("CREATE TEMPORARY TABLE incoming_entry (LIKE watchlist_entry) ON COMMIT DROP"))
    raw = (await (await db.connection()).get_raw_connection()).driver_connection
    records = await asyncio.to_thread(_records, rows, columns)
    await raw.copy_records_to_table("incoming_entry", records=records, columns=columns)
    names = ", ".join(columns)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in UPDATED)
    await db.execute(
        sa.text(
            f"INSERT INTO watchlist_entry ({names}) SELECT {names} FROM incoming_entry "
            f"ON CONFLICT (watchlist_id, entry_id) DO UPDATE SET {updates}"
        )
    )
    await db.execute(sa.text("DROP TABLE incoming_entry"))


async def _mark_removed(db: AsyncSession, watchlist_id: UUID, entry_ids: Sequence[str], *, version: int) -> None:
    for ids in _chunks(entry_ids):
        await db.execute(
            sa.update(Entries)
            .where(Entries.c.watchlist_id == watchlist_id, Entries.c.entry_id.in_(ids))
            .values(removed=True, changed_version=version)
        )
        await db.execute(
            sa.update(Hits)
            .where(Hits.c.watchlist_id == watchlist_id, Hits.c.entry_id.in_(ids))
            .values(entry_removed=True)
        )


async def entries_changed_after(db: AsyncSession, watchlist_id: UUID, version: int) -> list[EntryChange]:
    """Entries added, changed or removed by snapshots newer than `version` (all live ones when version is 0)."""
    query = sa.select(Entries.c.entry_id, Entries.c.data, Entries.c.removed).where(
        Entries.c.watchlist_id == watchlist_id, Entries.c.changed_version > version
    )
    if version == 0:
        query = query.where(Entries.c.removed.is_(False))
    return [EntryChange(*r) for r in (await db.execute(query)).all()]


def _changed_in(watchlist_id: UUID, version: int) -> sa.ColumnElement[bool]:
    return sa.and_(
        Entries.c.watchlist_id == watchlist_id, Entries.c.changed_version == version, Entries.c.removed.is_(False)
    )


async def entry_ids_changed_in(db: AsyncSession, watchlist_id: UUID, version: int) -> list[str]:
    """Ids of the live entries that snapshot `version` added or changed (and no later snapshot touched)."""
    query = sa.select(Entries.c.entry_id).where(_changed_in(watchlist_id, version))
    return list((await db.execute(query)).scalars())


async def entries_changed_in(db: AsyncSession, watchlist_id: UUID, version: int) -> list[EntryChange]:
    """The same entries with their data."""
    query = sa.select(Entries.c.entry_id, Entries.c.data, Entries.c.removed).where(_changed_in(watchlist_id, version))
    return [EntryChange(*r) for r in (await db.execute(query)).all()]


async def entry_facts(db: AsyncSession, keys: Iterable[tuple[UUID, str]]) -> dict[tuple[UUID, str], EntryFacts]:
    """{(watchlist id, entry id): fingerprint and the list version that last changed it} of the live entries."""
    keys = list(keys)
    if not keys:
        return {}
    query = sa.select(Entries.c.watchlist_id, Entries.c.entry_id, Entries.c.fingerprint, Entries.c.changed_version)
    query = query.where(sa.tuple_(Entries.c.watchlist_id, Entries.c.entry_id).in_(keys), Entries.c.removed.is_(False))
    return {
        (r.watchlist_id, r.entry_id): EntryFacts(r.fingerprint, r.changed_version)
        for r in (await db.execute(query)).all()
    }


def _records(rows: Sequence[dict[str, Any]], columns: list[str]) -> list[tuple[Any, ...]]:
    return [tuple(json.dumps(r[c], ensure_ascii=False) if c == "data" else r[c] for c in columns) for r in rows]


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]
