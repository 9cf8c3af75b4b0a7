"""The ICGLR-style status of a mine site: inspections set it, time lapses it (green → blue → red).

Reading of the validity rules (all computed from dates, UTC calendar days):
- A site starts blue (not inspected) on the day it is registered.
- An inspection sets the status to its result (green, yellow or red) from the inspection date, but only if it is
  the latest inspection by date (ties go to the one recorded last); an older inspection is history only.
- Green lapses to blue on the first anniversary of the inspection that made it green ("a year without inspection").
- Blue lasts at most three years: it turns red on the third anniversary of the later of the registration date and
  the day the site became blue.
- Yellow and red have no expiry: they stay until a newer inspection.
Anniversaries of 29 February fall on 28 February.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID

from libs.common.errors import Invalid

if TYPE_CHECKING:
    from services.kyc.domain.sites.site import Inspection, MineSite

GREEN_VALID_YEARS = 1
BLUE_MAX_YEARS = 3


class SiteStatus(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    BLUE = "blue"


class StatusReason(StrEnum):
    REGISTERED = "registered"
    INSPECTION = "inspection"
    GREEN_LAPSED = "green_lapsed"  # a year without inspection
    BLUE_EXPIRED = "blue_expired"  # three years blue


INSPECTION_RESULTS = (SiteStatus.GREEN, SiteStatus.YELLOW, SiteStatus.RED)
# What a user edits; the status changes only by inspection or lapse.
EDITABLE = ("name", "operator_actor_id", "location", "country", "region", "minerals", "capacity_kg_per_month")


@dataclass(frozen=True)
class Transition:
    on: date
    status: SiteStatus
    reason: StatusReason


@dataclass(frozen=True)
class StatusChange:
    """One status decision: what the status was, what it became, from which day and why; once recorded, also the
    area risk it was made under, by whom and when."""

    previous: SiteStatus | None
    status: SiteStatus
    on: date
    reason: StatusReason
    inspection_id: UUID | None = None
    area_risk: str | None = None
    risk_table_version: int | None = None
    changed_by: str = ""
    recorded_at: datetime | None = None

    @property
    def changed(self) -> bool:
        return self.previous != self.status


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a non-leap target year
        return day.replace(year=day.year + years, day=28)


def transitions(site: MineSite) -> list[Transition]:
    """The lapses ahead of the site's recorded status, in order, if no inspection intervenes."""
    assert site.status_since is not None  # MineSite.__post_init__ sets it
    if site.status is SiteStatus.GREEN:
        blue_on = add_years(site.status_since, GREEN_VALID_YEARS)
        red_on = add_years(max(blue_on, site.registered_on), BLUE_MAX_YEARS)
        return [
            Transition(blue_on, SiteStatus.BLUE, StatusReason.GREEN_LAPSED),
            Transition(red_on, SiteStatus.RED, StatusReason.BLUE_EXPIRED),
        ]
    if site.status is SiteStatus.BLUE:
        red_on = add_years(max(site.status_since, site.registered_on), BLUE_MAX_YEARS)
        return [Transition(red_on, SiteStatus.RED, StatusReason.BLUE_EXPIRED)]
    return []


def next_transition(site: MineSite, *, after: date | None = None) -> Transition | None:
    """The next lapse of the recorded status (the first one later than `after`, when given)."""
    return next((t for t in transitions(site) if after is None or t.on > after), None)


def effective_status(site: MineSite, today: date) -> tuple[SiteStatus, date]:
    """The status in force on `today` and the day it took effect, whether or not the lapse job has run yet."""
    assert site.status_since is not None  # MineSite.__post_init__ sets it
    status, since = site.status, site.status_since
    for transition in transitions(site):
        if transition.on <= today:
            status, since = transition.status, transition.on
    return status, since


def lapse_dates(site: MineSite) -> tuple[date | None, date | None]:
    """(day it turns blue, day it turns red) from its recorded status; stored so queries and the job find them."""
    ahead = {t.status: t.on for t in transitions(site)}
    return ahead.get(SiteStatus.BLUE), ahead.get(SiteStatus.RED)


def apply_due_lapses(site: MineSite, today: date) -> list[StatusChange]:
    """Move the recorded status along its lapses due by `today`; one change per step (green → blue → red)."""
    changes: list[StatusChange] = []
    while (transition := next_transition(site)) is not None and transition.on <= today:
        changes.append(StatusChange(site.status, transition.status, transition.on, transition.reason))
        site.status, site.status_since = transition.status, transition.on
    return changes


def record_inspection(site: MineSite, inspection: Inspection, today: date) -> list[StatusChange]:
    """Status decisions an inspection causes: none if a later one is on record, else its result plus due lapses."""
    check_inspection_date(inspection.inspection_date, today)
    if site.last_inspection_date is not None and inspection.inspection_date < site.last_inspection_date:
        return []
    decision = StatusChange(
        site.status, inspection.result, inspection.inspection_date, StatusReason.INSPECTION, inspection_id=inspection.id
    )
    site.status, site.status_since = inspection.result, inspection.inspection_date
    site.last_inspection_date = inspection.inspection_date
    return [decision, *apply_due_lapses(site, today)]


def check_inspection_date(day: date, today: date) -> None:
    if day > today:
        raise Invalid(f"inspection date {day} is in the future (today is {today})", code="date_in_future")


def inspection_result(value: str) -> SiteStatus:
    if value not in INSPECTION_RESULTS:
        raise Invalid(f"an inspection result is green, yellow or red, not {value!r}", code="invalid_result")
    return SiteStatus(value)


def midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)
