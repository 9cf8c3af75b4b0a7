"""Mine sites: the site and what changes it (site.py), and the rules of its ICGLR-style status (status.py)."""

from __future__ import annotations

from services.kyc.domain.sites.site import (
    EDITABLE,
    Inspection,
    MineSite,
    check_capacity,
    checked_fields,
)
from services.kyc.domain.sites.status import (
    BLUE_MAX_YEARS,
    GREEN_VALID_YEARS,
    INSPECTION_RESULTS,
    SiteStatus,
    StatusChange,
    StatusReason,
    Transition,
    add_years,
    apply_due_lapses,
    check_inspection_date,
    effective_status,
    inspection_result,
    lapse_dates,
    midnight_utc,
    next_transition,
    record_inspection,
    transitions,
)

__all__ = [
    "BLUE_MAX_YEARS",
    "EDITABLE",
    "GREEN_VALID_YEARS",
    "INSPECTION_RESULTS",
    "Inspection",
    "MineSite",
    "SiteStatus",
    "StatusChange",
    "StatusReason",
    "Transition",
    "add_years",
    "apply_due_lapses",
    "check_capacity",
    "check_inspection_date",
    "checked_fields",
    "effective_status",
    "inspection_result",
    "lapse_dates",
    "midnight_utc",
    "next_transition",
    "record_inspection",
    "transitions",
]
