"""Beneficial owners and key persons of an actor: natural or legal persons, with role and ownership share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

from libs.common.errors import Invalid
from services.kyc.domain import geography
from services.kyc.domain.history import diff
from services.kyc.domain.text import clean_text, names
from services.kyc.domain.versioned import Versioned

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
    return {
        **values,
        "full_name": full_name,
        "birth_date": birth_date,
        "aliases": [a for a in names(values.get("aliases") or []) if a.casefold() != full_name.casefold()],
        "nationality": geography.country(nationality) if nationality else None,
        "identifiers": names(values.get("identifiers") or []),
    }


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
            raise Invalid(
                f"the {label}' shares add up to {total:g} %, more than 100 %",
                code="ownership_exceeds_100",
                total=round(total, 6),
            )


def shares_list(shares: Iterable[tuple[str, float | None]], *, shareholders: bool) -> list[tuple[str, float]]:
    return [(role, pct) for role, pct in shares if pct is not None and (role == SHAREHOLDER) == shareholders]


EDITABLE_FIELDS = (
    "person_type",
    "full_name",
    "aliases",
    "birth_date",
    "nationality",
    "identifiers",
    "role",
    "ownership_pct",
)


@dataclass
class Person(Versioned):
    """A beneficial owner or key person, part of one actor's file (its changes are told as the actor's); its own
    `version` guards edits of it."""

    noun: ClassVar[str] = "person"

    id: UUID
    org_id: str
    actor_id: UUID
    person_type: str
    full_name: str
    role: str
    created_at: datetime
    updated_at: datetime
    aliases: list[str] = field(default_factory=list)
    birth_date: date | None = None
    nationality: str | None = None
    identifiers: list[str] = field(default_factory=list)
    ownership_pct: float | None = None
    version: int = 1

    @classmethod
    def new(
        cls, values: Mapping[str, Any], *, org_id: str, actor_id: UUID, others: list[Person], now: datetime
    ) -> Person:
        """A person checked against the actor's other persons (shares past 100 % are refused)."""
        clean = normalise(dict(values), today=now.date())
        check_ownership([*_shares(others), (clean["role"], clean.get("ownership_pct"))])
        fields: dict[str, Any] = {name: clean.get(name) for name in EDITABLE_FIELDS}  # an absent one is None
        return cls(
            id=uuid4(),
            org_id=org_id,
            actor_id=actor_id,
            created_at=now,
            updated_at=now,
            **fields,
        )

    def editable(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in EDITABLE_FIELDS}

    def update(self, changes: Mapping[str, Any], *, others: list[Person], now: datetime) -> dict[str, Any]:
        """Apply the changes given; returns the fields that changed, before and after (none: nothing changed)."""
        before = self.editable()
        clean = normalise({**before, **changes}, today=now.date())
        changed = diff(before, {name: clean[name] for name in EDITABLE_FIELDS})
        if changed:
            check_ownership([*_shares(p for p in others if p.id != self.id), (clean["role"], clean["ownership_pct"])])
            for name in changed:
                setattr(self, name, clean[name])
            self.touch(now)
        return changed


def _shares(persons: Iterable[Person]) -> list[tuple[str, float | None]]:
    return [(p.role, p.ownership_pct) for p in persons]
