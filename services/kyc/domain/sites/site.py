"""A mine site: registered, described, inspected; inspections and time (lapses) decide its status (status.py).
Each method returns the events that tell what happened, keyed by the site and carrying its state."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

from libs.common.errors import Invalid
from libs.common.events.kyc import (
    InspectionRecorded,
    MineSiteRegistered,
    MineSiteState,
    MineSiteStatusChanged,
    MineSiteUpdated,
)
from services.kyc.domain import boundaries, geography, geojson
from services.kyc.domain.actors.fields import hs_codes
from services.kyc.domain.risk import AreaRisk
from services.kyc.domain.sites.status import (
    SiteStatus,
    StatusChange,
    StatusReason,
    apply_due_lapses,
    check_inspection_date,
    inspection_result,
    midnight_utc,
    record_inspection,
)
from services.kyc.domain.versioned import UNNUMBERED, Versioned

# What a user edits; the status changes only by inspection or lapse.
EDITABLE = ("name", "operator_actor_id", "location", "country", "region", "minerals", "capacity_kg_per_month")


@dataclass(frozen=True)
class Inspection:
    id: UUID
    inspection_date: date
    result: SiteStatus
    site_id: UUID | None = None
    org_id: str = ""
    inspector: str = ""
    agency: str = ""
    notes: str | None = None
    report_document_id: UUID | None = None
    recorded_by: str = ""
    recorded_at: datetime | None = None

    @classmethod
    def new(
        cls,
        *,
        site_id: UUID,
        org_id: str,
        inspection_date: date,
        result: str,
        inspector: str,
        agency: str,
        notes: str | None,
        report_document_id: UUID | None,
        by: str,
        now: datetime,
    ) -> Inspection:
        check_inspection_date(inspection_date, now.date())
        return cls(
            id=uuid4(),
            inspection_date=inspection_date,
            result=inspection_result(result),
            site_id=site_id,
            org_id=org_id,
            inspector=inspector,
            agency=agency,
            notes=notes,
            report_document_id=report_document_id,
            recorded_by=by,
            recorded_at=now,
        )


@dataclass
class MineSite(Versioned):
    noun: ClassVar[str] = "mine site"

    id: UUID
    org_id: str
    name: str
    location: dict[str, Any]
    country: str
    region: str | None
    registered_on: date
    minerals: list[str] = field(default_factory=list)
    operator_actor_id: UUID | None = None
    capacity_kg_per_month: float | None = None
    status: SiteStatus = SiteStatus.BLUE
    status_since: date | None = None
    last_inspection_date: date | None = None
    area_risk: str | None = None
    risk_table_version: int | None = None
    location_check: dict[str, Any] | None = None  # boundaries.LocationCheck of the location and country in force
    created_by: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 0
    # Status decisions made since the site was read, kept in its status history when it is saved.
    new_decisions: list[StatusChange] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.status_since is None:
            self.status_since = self.registered_on

    @classmethod
    def register(
        cls,
        checked: Mapping[str, Any],
        *,
        org_id: str,
        area: AreaRisk,
        by: str,
        now: datetime,
        border_tolerance_km: float,
    ) -> tuple[MineSite, MineSiteRegistered]:
        """A new site starts blue (not inspected) today, with the area risk of the table in force; `checked` is
        what checked_fields returned. A location farther than `border_tolerance_km` outside the declared country
        is refused (location_outside_country)."""
        placed = boundaries.check_location(
            checked["location"], country=checked["country"], tolerance_km=border_tolerance_km
        )
        fields: dict[str, Any] = {name: checked.get(name) for name in EDITABLE}  # an absent one is None
        site = cls(
            id=uuid4(),
            org_id=org_id,
            registered_on=now.date(),
            created_by=by,
            created_at=now,
            updated_at=now,
            version=1,
            area_risk=area.level,
            risk_table_version=area.table_version,
            location_check=placed.as_dict(),
            **fields,
        )
        site.new_decisions.append(
            StatusChange(
                None,
                site.status,
                site.registered_on,
                StatusReason.REGISTERED,
                area_risk=site.area_risk,
                risk_table_version=site.risk_table_version,
                changed_by=by,
                recorded_at=now,
            )
        )
        return site, MineSiteRegistered(**site._event_fields())

    def state(self, *, step: StatusChange | None = None) -> MineSiteState:
        """The site as events tell it; `step` is the status change told when one decision made several (the site
        holds the last one already; each event shows the status its step made)."""
        status, since = (step.status, step.on) if step is not None else (self.status, self.status_since)
        return MineSiteState(
            site_id=self.id,
            org_id=self.org_id,
            name=self.name,
            operator_actor_id=self.operator_actor_id,
            country=self.country,
            region=self.region,
            minerals=list(self.minerals),
            capacity_kg_per_month=self.capacity_kg_per_month,
            status=status.value,
            status_since_date=since,
            area_risk=self.area_risk,
            risk_table_version=self.risk_table_version,
            **geojson.representative_point(self.location),
        )

    def _event_fields(self, *, step: StatusChange | None = None) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "site_id": self.id,
            "aggregate_version": UNNUMBERED,
            "site": self.state(step=step),
        }

    def editable(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in EDITABLE}

    def checked_changes(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """The descriptive fields given, checked; country and region are checked as a pair."""
        values = {name: value for name, value in changes.items() if name in EDITABLE}
        if "country" in values or "region" in values:
            values.setdefault("country", self.country)
            values.setdefault("region", self.region)
        return checked_fields(values)

    def edit(
        self, checked: Mapping[str, Any], *, area: AreaRisk, now: datetime, border_tolerance_km: float
    ) -> MineSiteUpdated | None:
        """Change descriptive fields (never the status), as checked_changes returned them; `area` is the risk of
        the place they leave the site in. A new location or country is checked against the other (as at
        registration). None when nothing changes."""
        changed = {name: value for name, value in checked.items() if getattr(self, name) != value}
        if not changed:
            return None
        if {"location", "country"} & changed.keys():
            self.location_check = boundaries.check_location(
                changed.get("location", self.location),
                country=changed.get("country", self.country),
                tolerance_km=border_tolerance_km,
            ).as_dict()
        for name, value in changed.items():
            setattr(self, name, value)
        if {"country", "region"} & changed.keys():
            self.area_risk, self.risk_table_version = area
        self.touch(now)
        return MineSiteUpdated(**self._event_fields(), changed_fields=sorted(changed))

    def reassess_area(self, area: AreaRisk, *, now: datetime) -> MineSiteUpdated | None:
        """The risk table in force changed: the site takes its new area risk (and the version that decided it);
        None when its level stays (it keeps the version it was last decided with)."""
        if area.level == self.area_risk:
            return None
        self.area_risk, self.risk_table_version = area
        self.touch(now)
        return MineSiteUpdated(**self._event_fields(), changed_fields=["area_risk", "risk_table_version"])

    def record_inspection(
        self, inspection: Inspection, *, area: AreaRisk, by: str, now: datetime
    ) -> list[InspectionRecorded | MineSiteStatusChanged]:
        """InspectionRecorded (the site as it was), then a status change for each step the inspection and the
        lapses since its date make, if it is the latest inspection by date."""
        recorded = InspectionRecorded(
            **self._event_fields(),
            inspection_id=inspection.id,
            inspection_date=inspection.inspection_date,
            result=inspection.result.value,
            agency=inspection.agency,
            inspector=inspection.inspector,
            report_document_id=inspection.report_document_id,
        )
        decisions = record_inspection(self, inspection, now.date())
        return [recorded, *self._decide(decisions, area=area, by=by, now=now)]

    def lapse(self, *, area: AreaRisk, by: str, now: datetime) -> list[MineSiteStatusChanged]:
        """The lapses due by `now`'s date (green → blue → red), one status change each."""
        return self._decide(apply_due_lapses(self, now.date()), area=area, by=by, now=now)

    def _decide(
        self, decisions: list[StatusChange], *, area: AreaRisk, by: str, now: datetime
    ) -> list[MineSiteStatusChanged]:
        """Every decision goes to the status history (a renewal too); a change is also an event."""
        if not decisions:
            return []
        self.area_risk, self.risk_table_version = area
        events = []
        for decision in decisions:
            self.new_decisions.append(
                replace(
                    decision,
                    area_risk=self.area_risk,
                    changed_by=by,
                    recorded_at=now,
                    risk_table_version=self.risk_table_version,
                )
            )
            if decision.previous is not None and decision.changed:
                events.append(
                    MineSiteStatusChanged(
                        **self._event_fields(step=decision),
                        previous_status=decision.previous.value,
                        status=decision.status.value,
                        reason=decision.reason.value,
                        effective_at=midnight_utc(decision.on),
                        inspection_id=decision.inspection_id,
                        risk_table_version=self.risk_table_version,
                    )
                )
        self.touch(now)
        return events


def checked_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """The given site fields checked and normalised; a country comes with its region (checked to lie in it)."""
    checked = dict(values)
    if "location" in values:
        checked["location"] = geojson.geometry(values["location"])
    if "country" in values:
        checked["country"] = geography.country(values["country"])
        checked["region"] = geography.region(checked["country"], values.get("region"))
    if "minerals" in values:
        checked["minerals"] = hs_codes(values["minerals"])
    if "capacity_kg_per_month" in values:
        checked["capacity_kg_per_month"] = check_capacity(values["capacity_kg_per_month"])
    return checked


def check_capacity(value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise Invalid("the production capacity per month must be greater than 0 kg", code="invalid_capacity")
    return value
