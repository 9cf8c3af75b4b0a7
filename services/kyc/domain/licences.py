"""Licences and permits: their types, the order of their dates, and when they count as expiring or expired."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from libs.common.errors import Invalid
from services.kyc.domain.actors import clean_text

LICENCE_TYPES = ("mining_title", "environmental_licence", "trader_card", "export_licence", "processing_licence",
                 "transport_permit", "other")


def check_dates(valid_from: date, valid_to: date | None) -> None:
    if valid_to is not None and valid_to < valid_from:
        raise Invalid(f"valid_to {valid_to} is before valid_from {valid_from}", code="dates_out_of_order")


def normalise(values: dict[str, Any]) -> dict[str, Any]:
    issuer, number = clean_text(values["issuer"]), clean_text(values["number"])
    if not issuer or not number:
        raise Invalid("issuer and number must not be empty", code="empty_field")
    check_dates(values["valid_from"], values.get("valid_to"))
    return {**values, "issuer": issuer, "number": number.upper()}


def state(valid_from: date, valid_to: date | None, today: date) -> str:
    """not_yet_valid, valid or expired on `today`; valid_to is the last valid day."""
    if today < valid_from:
        return "not_yet_valid"
    if valid_to is not None and today > valid_to:
        return "expired"
    return "valid"


def expiring_cutoff(today: date, lead_days: int) -> date:
    """A licence whose last valid day is on or before this date (and not yet past) is expiring."""
    return today + timedelta(days=lead_days)


EDITABLE_FIELDS = ("licence_type", "issuer", "number", "valid_from", "valid_to")
