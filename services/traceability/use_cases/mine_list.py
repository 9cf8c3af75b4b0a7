"""A smelter's mine list (CMRT/EMRT mine-list style): the origin mines behind the lots it received in a period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from libs.common.db import Executor
from libs.common.errors import Invalid
from services.traceability.repository import lots as lot_store
from services.traceability.repository import read_models

COLUMNS = (
    "Metal", "Mine Name", "Mine Identification", "Mine Identification Source", "Mine Country",
    "Mine Province/State", "Mine Latitude", "Mine Longitude", "Mine Status", "Smelter Actor ID",
    "First Receipt Date", "Last Receipt Date", "Number of Lots",
)  # fmt: skip
ID_SOURCE = "assay-traceability"


@dataclass
class MineRow:
    mineral: str
    site_id: UUID
    first: datetime
    last: datetime
    lots: set[UUID]


async def mine_list(db: Executor, smelter_actor_id: UUID, *, org_id: str, start: date, end: date) -> list[list[str]]:
    """One row per (mineral, origin site), ordered by mineral, country and name; `start` and `end` inclusive."""
    if end < start:
        raise Invalid("`to` is before `from`", code="bad_period")
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    received = await lot_store.lots_received_by(db, smelter_actor_id, org_id=org_id, start=since, end=until)
    mines: dict[tuple[str, UUID], MineRow] = {}
    for lot in received:
        for site in lot.origin_site_ids:
            row = mines.setdefault((lot.mineral, UUID(site)), MineRow(lot.mineral, UUID(site), lot.first_at,
                                                                      lot.last_at, set()))  # fmt: skip
            row.first, row.last = min(row.first, lot.first_at), max(row.last, lot.last_at)
            row.lots.add(lot.lot_id)
    sites = await read_models.sites_by_id(db, [site for _, site in mines], org_id=org_id)
    rows = []
    for row in mines.values():
        site = sites.get(row.site_id)
        rows.append([
            row.mineral, site.name if site else "", str(row.site_id), ID_SOURCE, site.country if site else "",
            (site.region or "") if site else "", _coordinate(site.latitude if site else None),
            _coordinate(site.longitude if site else None), site.status if site else "unknown", str(smelter_actor_id),
            row.first.date().isoformat(), row.last.date().isoformat(), str(len(row.lots)),
        ])  # fmt: skip
    return sorted(rows, key=lambda r: (r[0], r[4], r[1], r[2]))


def _coordinate(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"
