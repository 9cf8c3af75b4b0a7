"""The country/region risk table: conflict-affected and high-risk areas, replaced whole, one version per change."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from libs.common.errors import Invalid
from libs.common.events.kyc import RiskTableChanged
from services.kyc.domain import geography


class AreaLevel(StrEnum):
    CONFLICT_AFFECTED = "conflict_affected"
    HIGH_RISK = "high_risk"


HIGH, STANDARD = "high", "standard"
# The shipped default table is stored as this reserved organisation's; an organisation without a table follows it.
DEFAULT_ORG = "assay:default"  # reserved: libs.common.auth refuses any token naming an org "assay:…"
DEFAULT, ORGANISATION = "default", "organisation"  # where a version comes from
DEFAULT_FILE = Path(__file__).resolve().parents[1] / "data" / "default_risk_areas.json"


class AreaRisk(NamedTuple):
    """Where a country or region stands in an organisation's table in force: "high" or "standard"."""

    level: str
    table_version: int | None  # None while the organisation has never set a table


@dataclass(frozen=True, order=True)
class RiskArea:
    area: str  # ISO 3166-1 alpha-2 country ("CD") or ISO 3166-2 region ("CD-NK")
    level: AreaLevel
    reason: str
    source: str

    @property
    def country(self) -> str:
        return self.area.split("-", 1)[0]

    @property
    def region(self) -> str | None:
        return self.area if "-" in self.area else None


@dataclass(frozen=True)
class RiskTable:
    """One version of an organisation's table; version None means no table was ever set (nothing is listed)."""

    version: int | None
    areas: list[RiskArea] = field(default_factory=list)
    created_at: datetime | None = None
    created_by: str | None = None
    origin: str | None = None  # DEFAULT (the shipped table, followed) or ORGANISATION; None with no table

    def replace(
        self, entries: list[RiskArea], *, org_id: str, by: str, now: datetime
    ) -> tuple[RiskTable, RiskTableChanged] | None:
        """The next version holding exactly `entries`, or None when this version already holds them."""
        proposed = risk_table(entries)
        if is_unchanged(self.areas, proposed):
            return None
        version = (self.version or 0) + 1  # after the version in force, the default's too
        table = RiskTable(version=version, areas=proposed, created_at=now, created_by=by, origin=ORGANISATION)
        # Keyed by the organisation, whose table versions only grow.
        return table, RiskTableChanged(
            org_id=org_id,
            aggregate_version=version,
            table_version=version,
            areas=[a.area for a in proposed],
        )


@dataclass(frozen=True)
class RiskTableVersion:
    """One version of the table as listed: its size, who set it and when."""

    version: int
    area_count: int
    created_by: str
    created_at: datetime
    origin: str = ORGANISATION


def area_code(value: str) -> str:
    """A checked country or region code; regions must exist in their country."""
    text = (value or "").strip().upper()
    country = geography.country(text.split("-", 1)[0])
    if "-" not in text:
        return country
    return geography.region(country, text) or country


def risk_table(entries: list[RiskArea]) -> list[RiskArea]:
    """The table as stored and compared: codes checked, text trimmed, one entry per area, sorted by area."""
    table: dict[str, RiskArea] = {}
    for entry in entries:
        area = area_code(entry.area)
        if area in table:
            raise Invalid(f"area {area} is listed more than once", code="duplicate_area", area=area)
        table[area] = RiskArea(area, AreaLevel(entry.level), entry.reason.strip(), entry.source.strip())
    return sorted(table.values())


def is_unchanged(current: list[RiskArea], proposed: list[RiskArea]) -> bool:
    return sorted(current) == sorted(proposed)


def risk_of(listed: set[str], *, country: str, region: str | None) -> str:
    """ "high" when the country, or the region if any, is among the listed areas; else "standard"."""
    return HIGH if country in listed or (region is not None and region in listed) else STANDARD


def diff(current: list[RiskArea], proposed: list[RiskArea]) -> dict[str, list[str]]:
    """What a replacement does, by area code: for the audit entry."""
    before, after = {e.area: e for e in current}, {e.area: e for e in proposed}
    return {
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": sorted(a for a in before.keys() & after.keys() if before[a] != after[a]),
    }


@dataclass(frozen=True)
class DefaultTable:
    """The default table shipped in services/kyc/data (what it is derived from is told in that file)."""

    version: int
    edition: str
    areas: list[RiskArea]

    def as_table(self, *, now: datetime) -> RiskTable:
        return RiskTable(
            version=self.version,
            areas=risk_table(self.areas),
            created_at=now,
            created_by=f"assay default {self.edition}",
            origin=DEFAULT,
        )


@lru_cache(maxsize=1)
def default_table(path: Path = DEFAULT_FILE) -> DefaultTable:
    data = json.loads(path.read_text(encoding="utf-8"))
    areas = [RiskArea(a["area"], AreaLevel(a["level"]), a["reason"], a["source"]) for a in data["areas"]]
    return DefaultTable(version=int(data["version"]), edition=str(data["edition"]), areas=areas)
