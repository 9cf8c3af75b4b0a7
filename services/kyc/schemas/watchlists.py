"""What the watchlist API accepts and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from fastapi import UploadFile
from pydantic import BaseModel, Field

from libs.common.schemas import Page, RequestBody
from services.kyc import lengths
from services.kyc.domain.watchlists import Snapshot, Watchlist
from services.kyc.schemas.text import WatchlistName, text

ListFormat = Literal["un_xml", "ofac_xml", "ofac_csv", "ftm_jsonl", "csv"]


class CreateWatchlist(RequestBody):
    name: WatchlistName = Field(description="unique within the organisation, e.g. 'UN SC consolidated list'")
    format: ListFormat = Field(
        description="how its files are parsed: UN XML, OFAC SDN XML/CSV, FtM JSON lines, "
        "or the plain CSV id,name,kind,aliases,birth_date,country,identifiers,program"
    )
    source: text(lengths.WATCHLIST_SOURCE) | None = Field(None, description="where the files come from, e.g. a URL")  # type: ignore[valid-type]


class ImportList(RequestBody):
    """The form of an import: one list file in the list's format."""

    file: UploadFile = Field(description="the list file")


class SnapshotRead(BaseModel):
    id: UUID
    watchlist_id: UUID
    version: int
    sha256: str
    entry_count: int
    added_count: int
    changed_count: int
    removed_count: int
    imported_by: str
    imported_at: datetime

    @classmethod
    def from_domain(cls, snapshot: Snapshot) -> SnapshotRead:
        return cls.model_validate(snapshot, from_attributes=True)


SnapshotPage = Page[SnapshotRead]


class WatchlistRead(BaseModel):
    id: UUID
    name: str
    format: str
    source: str | None
    version: int = Field(description="the snapshot in force; 0 before the first import")
    created_by: str
    created_at: datetime
    current_snapshot: SnapshotRead | None = None

    @classmethod
    def from_domain(cls, watchlist: Watchlist) -> WatchlistRead:
        read = cls.model_validate(watchlist, from_attributes=True)
        current = SnapshotRead.from_domain(watchlist.current) if watchlist.current else None
        return read.model_copy(update={"current_snapshot": current})
