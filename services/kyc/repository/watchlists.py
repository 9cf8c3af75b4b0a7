"""Queries of watchlists, their snapshots and current entries; reads are scoped to the caller's organisation."""
from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.errors import NotFound
from services.kyc.tables.screening import (
    ScreeningHitRow,
    WatchlistEntryRow,
    WatchlistRow,
    WatchlistSnapshotRow,
)

Entries = WatchlistEntryRow.__table__
CHUNK = 5000  # rows per statement: bounded parameter counts on every backend
UPDATED = ("fingerprint", "data", "changed_version", "removed")


async def get_watchlist(db: AsyncSession, watchlist_id: UUID, *, org_id: str,
                        for_update: bool = False) -> WatchlistRow:
    """A list of the caller's organisation; `for_update` serialises imports into the same list."""
    query = sa.select(WatchlistRow).where(WatchlistRow.id == watchlist_id, WatchlistRow.org_id == org_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = (await db.execute(query)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"watchlist {watchlist_id} not found", code="watchlist_not_found")
    return row


async def find_watchlist_by_name(db: AsyncSession, name: str, *, org_id: str) -> WatchlistRow | None:
    query = sa.select(WatchlistRow).where(WatchlistRow.org_id == org_id, WatchlistRow.name == name)
    return (await db.execute(query)).scalar_one_or_none()


async def list_watchlists(db: AsyncSession, *, org_id: str) -> list[WatchlistRow]:
    query = sa.select(WatchlistRow).where(WatchlistRow.org_id == org_id).order_by(WatchlistRow.name)
    return list((await db.execute(query)).scalars())


async def list_versions(db: AsyncSession, *, org_id: str) -> dict[UUID, int]:
    """{watchlist id: version in force} of an organisation's lists."""
    query = sa.select(WatchlistRow.id, WatchlistRow.version).where(WatchlistRow.org_id == org_id)
    return {r.id: r.version for r in (await db.execute(query)).all()}


def save_watchlist(db: AsyncSession, row: WatchlistRow) -> None:
    db.add(row)


async def find_snapshot(db: AsyncSession, watchlist_id: UUID, version: int) -> WatchlistSnapshotRow | None:
    query = sa.select(WatchlistSnapshotRow).where(WatchlistSnapshotRow.watchlist_id == watchlist_id,
                                                  WatchlistSnapshotRow.version == version)
    return (await db.execute(query)).scalar_one_or_none()


async def list_snapshots(db: AsyncSession, watchlist_id: UUID, *, limit: int,
                         offset: int) -> tuple[list[WatchlistSnapshotRow], int]:
    condition = WatchlistSnapshotRow.watchlist_id == watchlist_id
    total = (await db.execute(sa.select(sa.func.count()).select_from(WatchlistSnapshotRow)
                              .where(condition))).scalar_one()
    query = (sa.select(WatchlistSnapshotRow).where(condition).order_by(WatchlistSnapshotRow.version.desc())
             .limit(limit).offset(offset))
    return list((await db.execute(query)).scalars()), total


async def current_snapshot_ids(db: AsyncSession, *, org_id: str) -> list[UUID]:
    """The snapshot in force of each of an organisation's lists."""
    query = (sa.select(WatchlistSnapshotRow.id).join(WatchlistRow, sa.and_(
        WatchlistRow.id == WatchlistSnapshotRow.watchlist_id, WatchlistRow.version == WatchlistSnapshotRow.version))
        .where(WatchlistRow.org_id == org_id).order_by(WatchlistSnapshotRow.id))
    return list((await db.execute(query)).scalars())


def save_snapshot(db: AsyncSession, row: WatchlistSnapshotRow) -> None:
    db.add(row)


async def current_fingerprints(db: AsyncSession, watchlist_id: UUID) -> dict[str, str]:
    query = sa.select(Entries.c.entry_id, Entries.c.fingerprint).where(
        Entries.c.watchlist_id == watchlist_id, Entries.c.removed.is_(False))
    return {r.entry_id: r.fingerprint for r in (await db.execute(query)).all()}


async def upsert_entries(db: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert new entries, or overwrite changed (or re-listed) ones; first_seen_version is kept."""
    if not rows:
        return
    if db.bind.dialect.name == "postgresql":
        await _copy_upsert(db, rows)
        return
    for start in range(0, len(rows), CHUNK):
        statement = sqlite.insert(Entries)
        statement = statement.on_conflict_do_update(
            index_elements=[Entries.c.watchlist_id, Entries.c.entry_id],
            set_={c: statement.excluded[c] for c in UPDATED})
        await db.execute(statement, list(rows[start:start + CHUNK]))


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
    await db.execute(sa.text(f"INSERT INTO watchlist_entry ({names}) SELECT {names} FROM incoming_entry "
                             f"ON CONFLICT (watchlist_id, entry_id) DO UPDATE SET {updates}"))
    await db.execute(sa.text("DROP TABLE incoming_entry"))


async def mark_removed(db: AsyncSession, watchlist_id: UUID, entry_ids: Sequence[str], *, version: int) -> None:
    for ids in _chunks(entry_ids):
        await db.execute(sa.update(Entries).where(Entries.c.watchlist_id == watchlist_id,
                                                  Entries.c.entry_id.in_(ids))
                         .values(removed=True, changed_version=version))
        await db.execute(sa.update(ScreeningHitRow).where(ScreeningHitRow.watchlist_id == watchlist_id,
                                                          ScreeningHitRow.entry_id.in_(ids))
                         .values(entry_removed=True))


async def entries_changed_after(db: AsyncSession, watchlist_id: UUID, version: int) -> list[sa.Row]:
    """Rows added, changed or removed by snapshots newer than `version` (all live rows when version is 0)."""
    query = sa.select(Entries.c.entry_id, Entries.c.data, Entries.c.removed).where(
        Entries.c.watchlist_id == watchlist_id, Entries.c.changed_version > version)
    if version == 0:
        query = query.where(Entries.c.removed.is_(False))
    return list((await db.execute(query)).all())


def _changed_in(watchlist_id: UUID, version: int) -> sa.ColumnElement[bool]:
    return sa.and_(Entries.c.watchlist_id == watchlist_id, Entries.c.changed_version == version,
                   Entries.c.removed.is_(False))


async def entry_ids_changed_in(db: AsyncSession, watchlist_id: UUID, version: int) -> list[str]:
    """Ids of the live entries that snapshot `version` added or changed (and no later snapshot touched)."""
    query = sa.select(Entries.c.entry_id).where(_changed_in(watchlist_id, version))
    return list((await db.execute(query)).scalars())


async def entries_changed_in(db: AsyncSession, watchlist_id: UUID, version: int) -> list[sa.Row]:
    """The same entries with their data."""
    query = sa.select(Entries.c.entry_id, Entries.c.data).where(_changed_in(watchlist_id, version))
    return list((await db.execute(query)).all())


async def entry_fingerprints(db: AsyncSession, keys: Iterable[tuple[UUID, str]]) -> dict[tuple[UUID, str], str]:
    """{(watchlist id, entry id): fingerprint} of the live entries among `keys`."""
    keys = list(keys)
    if not keys:
        return {}
    query = sa.select(Entries.c.watchlist_id, Entries.c.entry_id, Entries.c.fingerprint).where(
        sa.tuple_(Entries.c.watchlist_id, Entries.c.entry_id).in_(keys), Entries.c.removed.is_(False))
    return {(r.watchlist_id, r.entry_id): r.fingerprint for r in (await db.execute(query)).all()}


def _records(rows: Sequence[dict[str, Any]], columns: list[str]) -> list[tuple[Any, ...]]:
    return [tuple(json.dumps(r[c], ensure_ascii=False) if c == "data" else r[c] for c in columns) for r in rows]


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]
