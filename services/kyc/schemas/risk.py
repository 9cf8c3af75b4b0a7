"""What the risk-table API accepts and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from libs.common.schemas import RequestBody
from services.kyc import lengths
from services.kyc.domain.risk import AreaLevel, RiskArea, RiskTable, RiskTableVersion
from services.kyc.schemas.text import NO_CONTROL, text

MAX_AREAS = 5000
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000, pattern=NO_CONTROL)]


class RiskAreaEntry(RequestBody):
    area: text(lengths.REGION, min_length=0) = Field(
        description="ISO 3166-1 alpha-2 country (CD) or ISO 3166-2 region (CD-NK)"
    )
    level: Literal["conflict_affected", "high_risk"]
    reason: Text
    source: Text = Field(description="where the listing comes from, e.g. a report or list and its date")

    def to_domain(self) -> RiskArea:
        return RiskArea(area=self.area, level=AreaLevel(self.level), reason=self.reason, source=self.source)

    @classmethod
    def from_domain(cls, area: RiskArea) -> RiskAreaEntry:
        return cls(area=area.area, level=area.level.value, reason=area.reason, source=area.source)


ReplaceRiskTable = Annotated[list[RiskAreaEntry], Field(max_length=MAX_AREAS)]


Origin = Literal["default", "organisation"]


class RiskTableRead(BaseModel):
    version: int | None = Field(description="null while there is no table (none set, no default loaded)")
    origin: Origin | None = Field(
        description="default: the shipped default table, followed until the organisation sets its own"
    )
    created_at: datetime | None
    created_by: str | None
    areas: list[RiskAreaEntry]

    @classmethod
    def from_domain(cls, table: RiskTable) -> RiskTableRead:
        return cls(
            version=table.version,
            origin=table.origin,  # type: ignore[arg-type]
            created_at=table.created_at,
            created_by=table.created_by,
            areas=[RiskAreaEntry.from_domain(a) for a in table.areas],
        )


class RiskTableVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    area_count: int
    created_by: str
    created_at: datetime
    origin: Origin

    @classmethod
    def from_domain(cls, version: RiskTableVersion) -> RiskTableVersionRead:
        return cls.model_validate(version)
