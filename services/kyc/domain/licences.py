"""Licences and permits: their types, the order of their dates, and when they count as expiring or expired."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID, uuid4

from libs.common.errors import Invalid
from libs.common.events.kyc import LicenceState
from services.kyc import lengths
from services.kyc.domain.history import diff
from services.kyc.domain.text import clean_text, upper_bounded
from services.kyc.domain.versioned import Versioned

LICENCE_TYPES = (
    "mining_title",
    "environmental_licence",
    "trader_card",
    "export_licence",
    "processing_licence",
    "transport_permit",
    "other",
)


def check_dates(valid_from: date, valid_to: date | None) -> None:
    if valid_to is not None and valid_to < valid_from:
        raise Invalid(f"valid_to {valid_to} is before valid_from {valid_from}", code="dates_out_of_order")


def normalise(values: dict[str, Any]) -> dict[str, Any]:
    issuer, number = clean_text(values["issuer"]), clean_text(values["number"])
    if not issuer or not number:
        raise Invalid("issuer and number must not be empty", code="empty_field")
    check_dates(values["valid_from"], values.get("valid_to"))
    return {**values, "issuer": issuer, "number": upper_bounded(number, lengths.IDENTIFIER, what="number")}


def state(valid_from: date, valid_to: date | None, today: date, *, lead_days: int) -> str:
    """not_yet_valid, valid, expiring (its last valid day within `lead_days`, the lead time of the expiry notice)
    or expired on `today`; valid_to is the last valid day."""
    if today < valid_from:
        return "not_yet_valid"
    if valid_to is not None and today > valid_to:
        return "expired"
    if valid_to is not None and valid_to <= expiring_cutoff(today, lead_days):
        return "expiring"
    return "valid"


def expiring_cutoff(today: date, lead_days: int) -> date:
    """A licence whose last valid day is on or before this date (and not yet past) is expiring."""
    return today + timedelta(days=lead_days)


EXPIRING, EXPIRED = "expiring", "expired"


EDITABLE_FIELDS = ("licence_type", "issuer", "number", "valid_from", "valid_to")


@dataclass
class Licence(Versioned):
    """A licence or permit, part of one actor's file; the *_notified_at marks make each expiry event fire once, and
    its own `version` guards edits of it (the marks do not move it)."""

    noun: ClassVar[str] = "licence"

    id: UUID
    org_id: str
    actor_id: UUID
    licence_type: str
    issuer: str
    number: str
    valid_from: date
    created_at: datetime
    updated_at: datetime
    valid_to: date | None = None  # the last valid day; None for a permit without end
    expiring_notified_at: datetime | None = None
    expired_notified_at: datetime | None = None
    document_ids: list[UUID] = field(default_factory=list)  # the files under it, read for its owner only
    version: int = 1

    @classmethod
    def new(cls, values: Mapping[str, Any], *, org_id: str, actor_id: UUID, now: datetime) -> Licence:
        clean = normalise(dict(values))
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

    def update(self, changes: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
        """Apply the changes given; returns the fields that changed, before and after. A new end date (a renewal)
        is announced again when it nears."""
        before = self.editable()
        clean = normalise({**before, **changes})
        changed = diff(before, {name: clean[name] for name in EDITABLE_FIELDS})
        for name in changed:
            setattr(self, name, clean[name])
        if "valid_to" in changed:
            self.expiring_notified_at = self.expired_notified_at = None
        if changed:
            self.touch(now)
        return changed

    def validity(self, today: date, *, lead_days: int) -> str:
        return state(self.valid_from, self.valid_to, today, lead_days=lead_days)

    def notice_due(self, today: date, *, lead_days: int) -> str | None:
        """The expiry notice this licence is owed on `today` and was not given yet: EXPIRED once its last valid
        day has passed, else EXPIRING once that day is within `lead_days`; the rule of the expiry job, also applied
        when a licence is recorded or corrected."""
        if self.valid_to is None or self.valid_to > expiring_cutoff(today, lead_days):
            return None
        if self.valid_to < today:
            return EXPIRED if self.expired_notified_at is None else None
        return EXPIRING if self.expiring_notified_at is None else None

    def state(self) -> LicenceState:
        """The licence as events tell it."""
        return LicenceState(
            licence_id=self.id,
            licence_type=self.licence_type,
            issuer=self.issuer,
            number=self.number,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
        )
