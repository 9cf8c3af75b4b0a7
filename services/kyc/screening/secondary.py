"""Score adjustments from secondary identifiers: kind, birth date, country, document numbers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .fields import identifier
from .model import ListEntry

BIRTH_DATE_MATCH = 0.08
BIRTH_YEAR_MATCH = 0.05
BIRTH_YEAR_DIFFERS = -0.10
COUNTRY_MATCH = 0.03
COUNTRY_DIFFERS = -0.08
IDENTIFIER_MATCH = 0.25
KIND_DIFFERS = -0.15
VESSEL_VS_ORGANIZATION = -0.05
MIN_IDENTIFIER_LENGTH = 4  # 'A1' style fragments identify nothing


class SubjectFacts(Protocol):  # read-only, so a frozen dataclass with tuples fits
    @property
    def kind(self) -> str: ...
    @property
    def birth_date(self) -> str | None: ...
    @property
    def countries(self) -> Sequence[str]: ...
    @property
    def identifiers(self) -> Sequence[str]: ...


Adjustment = tuple[float, str]


def adjustments(subject: SubjectFacts, entry: ListEntry, normalised_ids: Sequence[str]) -> list[Adjustment]:
    """Every adjustment that applies, each with a human-readable reason."""
    found = [
        _kind(subject.kind, entry.kind),
        _birth(subject.birth_date, entry.birth_dates),
        _country(subject.countries, entry.countries),
        _identifier(normalised_ids, entry.identifiers),
    ]
    return [a for a in found if a is not None]


def max_bonus(subject: SubjectFacts) -> float:
    """The most the adjustments can add for this subject: names further below are not worth it."""
    bonus = BIRTH_DATE_MATCH if subject.birth_date else 0.0
    bonus += COUNTRY_MATCH if subject.countries else 0.0
    return bonus + (IDENTIFIER_MATCH if subject.identifiers else 0.0)


def _kind(subject_kind: str, entry_kind: str) -> Adjustment | None:
    if entry_kind == "other" or entry_kind == subject_kind:
        return None
    if {subject_kind, entry_kind} == {"organization", "vessel"}:
        return (
            VESSEL_VS_ORGANIZATION,
            f"kind differs: {subject_kind} vs listed {entry_kind} ({VESSEL_VS_ORGANIZATION:+.2f})",
        )
    return KIND_DIFFERS, f"kind differs: {subject_kind} vs listed {entry_kind} ({KIND_DIFFERS:+.2f})"


def _birth(subject_date: str | None, listed: Sequence[str]) -> Adjustment | None:
    if not subject_date or not listed:
        return None
    if len(subject_date) == 10 and subject_date in listed:
        return BIRTH_DATE_MATCH, f"birth date {subject_date} matches ({BIRTH_DATE_MATCH:+.2f})"
    year = subject_date[:4]
    years = sorted({d[:4] for d in listed})
    if year in years:
        return BIRTH_YEAR_MATCH, f"birth year {year} matches ({BIRTH_YEAR_MATCH:+.2f})"
    if any(abs(int(year) - int(y)) <= 1 for y in years if y.isdigit() and year.isdigit()):
        return 0.0, f"birth year {year} within a year of listed {', '.join(years)} (+0.00)"
    return BIRTH_YEAR_DIFFERS, f"birth year {year} differs from listed {', '.join(years)} ({BIRTH_YEAR_DIFFERS:+.2f})"


def _country(subject_countries: Sequence[str], listed: Sequence[str]) -> Adjustment | None:
    if not subject_countries or not listed:
        return None
    shared = sorted(set(subject_countries) & set(listed))
    if shared:
        return COUNTRY_MATCH, f"country {', '.join(shared)} matches ({COUNTRY_MATCH:+.2f})"
    reason = f"country {', '.join(subject_countries)} differs from listed {', '.join(listed)} ({COUNTRY_DIFFERS:+.2f})"
    return COUNTRY_DIFFERS, reason


def _identifier(subject_ids: Sequence[str], listed: Sequence[str]) -> Adjustment | None:
    if not subject_ids or not listed:
        return None
    listed_ids = {identifier(i) for i in listed}  # entries built by hand may carry raw numbers
    shared = [i for i in subject_ids if len(i) >= MIN_IDENTIFIER_LENGTH and i in listed_ids]
    if not shared:
        return None
    return IDENTIFIER_MATCH, f"identifier {shared[0]} identical ({IDENTIFIER_MATCH:+.2f})"
