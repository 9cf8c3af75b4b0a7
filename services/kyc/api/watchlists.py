"""HTTP routes of watchlists: create a list, import a file as a new snapshot, read lists and their snapshots."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Query, Response, UploadFile

from libs.common import gate
from libs.common.db import DbRead, DbTransaction
from libs.common.errors import TooLarge
from libs.common.pagination import PageQuery
from services.kyc.access import Admin, Reader
from services.kyc.api.context import Settings, Store
from services.kyc.schemas.watchlists import (
    CreateWatchlist,
    ImportList,
    SnapshotPage,
    SnapshotRead,
    WatchlistRead,
)
from services.kyc.use_cases import watchlists as use_cases

router = APIRouter(prefix="/watchlists", tags=["watchlists"])
NOT_FOUND = {404: {"description": "no such watchlist in the caller's organisation"}}
IMPORT_ERRORS = {
    200: {"description": "the file changes nothing: the snapshot in force is answered, no new version"},
    409: {
        "description": "confirmation_required: the file removes more than KYC_WATCHLIST_MAX_REMOVAL_SHARE of the "
        "entries in force (with `listed`, `removed`, `added`, `changed`); send confirm_removals=true"
    },
    413: {"description": "file_too_large (setting KYC_WATCHLIST_MAX_BYTES); body_too_large, on the headers"},
    422: {
        "description": "malformed_list, with `location` (line or record) and `reason`; the snapshot in force "
        "stays; or empty_file"
    },
}


@router.post(
    "",
    status_code=201,
    summary="Create a watchlist (its files are imported as snapshots)",
    responses={409: {"description": "duplicate_watchlist: the name is taken"}},
)
async def create_watchlist(body: CreateWatchlist, principal: Admin, db: DbTransaction) -> WatchlistRead:
    watchlist = await use_cases.create_watchlist(db, principal, name=body.name, fmt=body.format, source=body.source)
    return WatchlistRead.from_domain(watchlist)


@router.get("", summary="Watchlists of the caller's organisation")
async def list_watchlists(principal: Reader, db: DbRead) -> list[WatchlistRead]:
    return [WatchlistRead.from_domain(w) for w in await use_cases.list_watchlists(db, principal)]


@router.get("/{watchlist_id}", summary="One watchlist with the snapshot in force", responses=NOT_FOUND)
async def get_watchlist(watchlist_id: UUID, principal: Reader, db: DbRead) -> WatchlistRead:
    return WatchlistRead.from_domain(await use_cases.get_watchlist(db, principal, watchlist_id))


@router.get("/{watchlist_id}/snapshots", summary="Imported snapshots, newest first", responses=NOT_FOUND)
async def list_snapshots(watchlist_id: UUID, principal: Reader, db: DbRead, page: PageQuery) -> SnapshotPage:
    snapshots, total = await use_cases.list_snapshots(db, principal, watchlist_id, page=page)
    return SnapshotPage(
        items=[SnapshotRead.from_domain(s) for s in snapshots], total=total, limit=page.limit, offset=page.offset
    )


@router.post(
    "/{watchlist_id}/imports",
    status_code=201,
    responses={**NOT_FOUND, **IMPORT_ERRORS},
    dependencies=[gate.body_limit(lambda settings: settings.kyc_watchlist_max_bytes)],
    summary="Import a list file: a new snapshot when entries were added, changed or removed",
)
async def import_snapshot(
    watchlist_id: UUID,
    form: Annotated[ImportList, Form()],
    response: Response,
    principal: Admin,
    db: DbTransaction,
    settings: Settings,
    store: Store,
    confirm_removals: Annotated[
        bool, Query(description="replace the list even though the file removes most of its entries")
    ] = False,
) -> SnapshotRead:
    data = await _read_limited(form.file, settings.kyc_watchlist_max_bytes)
    result = await use_cases.import_snapshot(
        db,
        principal,
        watchlist_id,
        data=data,
        store=store,
        max_removal_share=settings.kyc_watchlist_max_removal_share,
        confirm_removals=confirm_removals,
    )
    if not result.created:
        response.status_code = 200
    return SnapshotRead.from_domain(result.snapshot)


async def _read_limited(file: UploadFile, max_bytes: int) -> bytes:
    if file.size is not None and file.size > max_bytes:
        raise TooLarge(f"the file has {file.size} bytes; the limit is {max_bytes}", code="file_too_large")
    data = await file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise TooLarge(f"the file is larger than the limit of {max_bytes} bytes", code="file_too_large")
    return data
