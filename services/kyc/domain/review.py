"""Risk level of an approved actor and the date of its next review."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

LOW, MEDIUM, HIGH = "low", "medium", "high"
LEVELS = (LOW, MEDIUM, HIGH)
# Informal, cash-based actors and the points where material from many sources is aggregated (OECD Annex II).
AGGREGATING_TYPES = frozenset({"asm_producer", "cooperative", "trader", "exporter"})


@dataclass(frozen=True)
class RiskAssessment:
    level: str
    factors: tuple[str, ...]
    table_version: int | None = None  # of the risk table the area risk was read from (None: no table yet)


def assess(
    *,
    area_risk: str,
    actor_type: str,
    has_beneficial_owner: bool,
    has_valid_licence: bool,
    table_version: int | None = None,
) -> RiskAssessment:
    """The rule, applied at approval:

    1. An actor in a conflict-affected or high-risk area (its country or region is listed in the risk table in
       force, as `area_risk` "high") is high risk, whatever else holds.
    2. Otherwise the actor type sets the base: medium for ASM producers, cooperatives, traders and exporters
       (informal, cash-based or aggregating material of many origins), low for the others.
    3. The base goes up one level if no beneficial owner is declared, and one level if no licence or permit is
       valid on the approval date; high is the ceiling.
    """
    if area_risk == "high":
        return RiskAssessment(HIGH, ("high_risk_area",), table_version)
    factors = ["aggregating_actor_type"] if actor_type in AGGREGATING_TYPES else []
    level = 1 if factors else 0
    if not has_beneficial_owner:
        factors.append("no_beneficial_owner")
        level += 1
    if not has_valid_licence:
        factors.append("no_valid_licence")
        level += 1
    return RiskAssessment(LEVELS[min(level, 2)], tuple(factors), table_version)


def add_months(day: date, months: int) -> date:
    """Same day `months` later; the 31st becomes the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_review_date(decided_on: date, level: str, months: Mapping[str, int]) -> date:
    return add_months(decided_on, months[level])


def is_overdue(next_review: date | None, today: date) -> bool:
    """Overdue once the review date has passed (the due day itself is still on time)."""
    return next_review is not None and next_review < today
