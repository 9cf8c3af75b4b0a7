"""What the mine-site API accepts and returns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from libs.common.schemas import IsoDate, Page, RequestBody
from services.kyc import lengths
from services.kyc.domain import sites as domain
from services.kyc.domain.sites import Inspection, MineSite, StatusChange
from services.kyc.schemas.text import NO_CONTROL, HsCode, text

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=lengths.NAME, pattern=NO_CONTROL)
]
Label = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=lengths.INSPECTOR, pattern=NO_CONTROL)
]
Code = text(lengths.CODE_INPUT, min_length=0)  # checked by the domain, so a wrong one gets its own problem code
Capacity = Annotated[float, Field(gt=0, allow_inf_nan=False, description="estimated production, kg per month")]
Minerals = Annotated[
    list[HsCode], Field(min_length=1, max_length=50, description="HS codes, e.g. 7108 (gold) or 261590 (tantalum ores)")
]
Location = Annotated[
    Any,
    Field(
        description="GeoJSON geometry: Point, Polygon or MultiPolygon ([longitude, latitude])",
        json_schema_extra={"type": "object", "example": {"type": "Point", "coordinates": [28.86, -2.49]}},
    ),
]
Status = Literal["green", "yellow", "red", "blue"]
Result = Literal["green", "yellow", "red"]


class RegisterSite(RequestBody):
    name: Name
    operator_actor_id: UUID | None = None
    location: Location
    country: Code = Field(description="ISO 3166-1 alpha-2, e.g. CD")
    region: Code | None = Field(default=None, description="ISO 3166-2, e.g. CD-SK")
    minerals: Minerals
    capacity_kg_per_month: Capacity | None = None


class EditSite(RequestBody):
    """Only the fields sent change; null clears operator, region or capacity. The status is never edited."""

    name: Name | None = None
    operator_actor_id: UUID | None = None
    location: Location = None
    country: Code | None = None
    region: Code | None = None
    minerals: Minerals | None = None
    capacity_kg_per_month: Capacity | None = None
    version: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="the version last read (or send If-Match): 428 without either, 409 stale_version if it moved",
    )

    @model_validator(mode="after")
    def _required_fields_are_not_cleared(self) -> EditSite:
        cleared = [
            f
            for f in ("name", "location", "country", "minerals")
            if f in self.model_fields_set and getattr(self, f) is None
        ]
        if cleared:
            raise ValueError(f"{', '.join(cleared)} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.model_fields_set if f != "version"}


class TransitionRead(BaseModel):
    date: date
    status: Status
    reason: str


class LocationCheckRead(BaseModel):
    """The boundary check of the location against the declared country (a location clearly outside is refused)."""

    country: Literal["inside", "near_border", "not_checked"] = Field(
        description="inside the outline; near_border: outside it but within KYC_SITE_BORDER_TOLERANCE_KM; "
        "not_checked: no outline for that code"
    )
    distance_km: float | None = Field(description="from the country's outline (0 inside)")
    tolerance_km: float
    region: Literal["not_checked"] = Field(description="regions are not checked: no offline admin-1 outlines")
    dataset: str


class SiteRead(BaseModel):
    id: UUID
    name: str
    operator_actor_id: UUID | None
    location: dict[str, Any]
    country: str
    region: str | None
    minerals: list[str]
    capacity_kg_per_month: float | None
    status: Status = Field(description="in force today: the recorded status with any due lapse applied")
    status_since: date
    next_transition: TransitionRead | None = Field(description="the next lapse if no inspection comes first")
    last_inspection_date: date | None
    registered_date: date
    area_risk: str | None = Field(description="high or standard, per the risk table version below")
    risk_table_version: int | None
    location_check: LocationCheckRead | None = Field(
        description="where the location lies against the declared country (null on sites registered before the check)"
    )
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def from_domain(cls, site: MineSite, *, today: date) -> SiteRead:
        status, since = domain.effective_status(site, today)
        ahead = domain.next_transition(site, after=today)
        return cls(
            id=site.id,
            name=site.name,
            operator_actor_id=site.operator_actor_id,
            location=site.location,
            country=site.country,
            region=site.region,
            minerals=site.minerals,
            capacity_kg_per_month=site.capacity_kg_per_month,
            status=status.value,
            status_since=since,
            next_transition=TransitionRead(date=ahead.on, status=ahead.status.value, reason=ahead.reason.value)
            if ahead
            else None,
            last_inspection_date=site.last_inspection_date,
            registered_date=site.registered_on,
            area_risk=site.area_risk,
            risk_table_version=site.risk_table_version,
            location_check=LocationCheckRead.model_validate(site.location_check) if site.location_check else None,
            created_at=site.created_at,
            updated_at=site.updated_at,
            version=site.version,
        )


SitePage = Page[SiteRead]


class RecordInspection(RequestBody):
    inspection_date: IsoDate = Field(description="not in the future; an older one than the latest is history only")
    inspector: Label
    agency: Label
    result: Result
    notes: text(10_000, min_length=0) | None = None
    report_document_id: UUID | None = Field(default=None, description="an uploaded document of this organisation")


class InspectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    site_id: UUID
    inspection_date: date
    inspector: str
    agency: str
    result: Result
    notes: str | None
    report_document_id: UUID | None
    recorded_by: str
    recorded_at: datetime

    @classmethod
    def from_domain(cls, inspection: Inspection) -> InspectionRead:
        return cls.model_validate(inspection)


class StatusChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    previous_status: Status | None
    status: Status
    reason: str = Field(description="registered | inspection | green_lapsed | blue_expired")
    effective_date: date
    inspection_id: UUID | None
    area_risk: str | None
    risk_table_version: int | None = Field(description="the risk table version in force at this decision")
    changed_by: str
    recorded_at: datetime

    @classmethod
    def from_domain(cls, change: StatusChange) -> StatusChangeRead:
        return cls(
            previous_status=change.previous,
            status=change.status,
            reason=change.reason,
            effective_date=change.on,
            inspection_id=change.inspection_id,
            area_risk=change.area_risk,
            risk_table_version=change.risk_table_version,
            changed_by=change.changed_by,
            recorded_at=change.recorded_at,
        )
