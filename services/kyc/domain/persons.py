"""Beneficial owners and key persons of an actor: natural or legal persons, with role and ownership share."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from libs.common.errors import Invalid
from services.kyc.domain import geography
from services.kyc.domain.actors import clean_text, names

PERSON_TYPES = ("natural", "legal")
ROLES = ("beneficial_owner", "shareholder", "director", "manager", "legal_representative", "key_person", "other")
SHAREHOLDER = "shareholder"
# Fields a screening looks at: changing one of them re-screens the person.
SCREENED_FIELDS = ("person_type", "full_name", "aliases", "birth_date", "nationality", "identifiers")


def normalise(values: dict[str, Any], *, today: date) -> dict[str, Any]:
    """A complete set of person fields checked and put in the form the register keeps."""
    full_name = clean_text(values["full_name"])
    if not full_name:
        raise Invalid("the name is empty", code="empty_name")
    birth_date = values.get("birth_date")
    if birth_date is not None:
        if values["person_type"] == "legal":
            raise Invalid("a legal person has no birth date", code="birth_date_not_applicable")
        if birth_date > today:
            raise Invalid(f"birth date {birth_date} is in the future", code="birth_date_in_future")
    nationality = values.get("nationality")
    return {**values, "full_name": full_name, "birth_date": birth_date,
            "aliases": [a for a in names(values.get("aliases") or []) if a.casefold() != full_name.casefold()],
            "nationality": geography.country(nationality) if nationality else None,
            "identifiers": names(values.get("identifiers") or [])}


def check_ownership(shares: Iterable[tuple[str, float | None]]) -> None:
    """Shares of (role, pct) pairs must not add up past 100 %.

    Direct shareholders and beneficial owners are summed apart: an ultimate owner holding through a shareholder
    company appears in both lists, so one combined sum would count the same stake twice. Every role other than
    shareholder counts with the beneficial owners (a director declared with a share owns it)."""
    shares = list(shares)
    direct = sum(pct for role, pct in shares_list(shares, shareholders=True))
    beneficial = sum(pct for role, pct in shares_list(shares, shareholders=False))
    for label, total in (("shareholders", direct), ("beneficial owners", beneficial)):
        if total > 100 + 1e-9:
            raise Invalid(f"the {label}' shares add up to {total:g} %, more than 100 %",
                          code="ownership_exceeds_100", total=round(total, 6))


def shares_list(shares: Iterable[tuple[str, float | None]], *, shareholders: bool) -> list[tuple[str, float]]:
    return [(role, pct) for role, pct in shares if pct is not None and (role == SHAREHOLDER) == shareholders]


EDITABLE_FIELDS = ("person_type", "full_name", "aliases", "birth_date", "nationality", "identifiers", "role",
                   "ownership_pct")
