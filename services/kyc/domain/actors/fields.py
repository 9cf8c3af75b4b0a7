"""The rules on an actor's fields: types, names, numbers, places and minerals, and the form the register keeps."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from libs.common.errors import Invalid
from services.kyc import lengths
from services.kyc.domain import geography
from services.kyc.domain.text import clean_text, names, upper_bounded

ACTOR_TYPES = (
    "asm_producer",
    "cooperative",
    "mine_operator",
    "trader",
    "processor",
    "exporter",
    "transporter",
    "smelter_refiner",
)
SMELTER = "smelter_refiner"
# HS heading (4 digits), subheading (6) or national tariff line (8 or 10): 2616 gold ores, 7108 gold, 2609 tin ores,
# 2615 tantalum/niobium ores, 2611 tungsten ores, 2605 cobalt ores.
HS_CODE = re.compile(r"^\d{4}(\d{2}){0,3}$")
FACILITY_ID = re.compile(r"^CID\d{6}$")  # RMI smelter/refiner facility id, e.g. CID001234
# Fields a screening looks at: changing one of them re-screens the actor.
SCREENED_FIELDS = ("legal_name", "aliases", "registration_number", "tax_number", "country")
# Fields that decide the risk level.
RISK_FIELDS = ("actor_type", "country", "region")
# A change of one of these on an approved actor is material: its review becomes due today (a re-review).
MATERIAL_FIELDS = (*SCREENED_FIELDS, *RISK_FIELDS)


def identifier(value: str | None) -> str | None:
    """Registration and tax numbers compare upper-cased with single spaces ("rccm cd/gom" = "RCCM CD/GOM")."""
    text = clean_text(value)
    return upper_bounded(text, lengths.IDENTIFIER, what="identifier") if text else None


def hs_codes(values: Iterable[str]) -> list[str]:
    """HS codes without dots or spaces ("7108.12" → "710812"), each checked, duplicates removed."""
    kept: list[str] = []
    for value in values:
        code = re.sub(r"[.\s]", "", value or "")
        if not HS_CODE.match(code):
            raise Invalid(
                f"{value!r} is not an HS code (4, 6, 8 or 10 digits, e.g. 7108 for gold)", code="invalid_hs_code"
            )
        if code not in kept:
            kept.append(code)
    return kept


def facility_id(actor_type: str, value: str | None) -> str | None:
    """Only smelters/refiners carry a facility id, in the RMI "CID" + 6 digits form."""
    text = identifier(value)
    if text is None:
        return None
    if actor_type != SMELTER:
        raise Invalid("only a smelter_refiner has a smelter facility id", code="facility_id_not_allowed")
    if not FACILITY_ID.match(text):
        raise Invalid(f"{value!r} is not a facility id like CID001234", code="invalid_facility_id")
    return text


def address(value: dict[str, Any]) -> dict[str, Any]:
    country = geography.country(value["country"])
    return {**value, "country": country, "region": geography.region(country, value.get("region"))}


def normalise(values: dict[str, Any]) -> dict[str, Any]:
    """A complete set of actor fields checked and put in the form the register keeps."""
    actor_type = values["actor_type"]
    if actor_type not in ACTOR_TYPES:
        raise Invalid(f"unknown actor type {actor_type!r}", code="unknown_actor_type")
    legal_name = clean_text(values["legal_name"])
    if not legal_name:
        raise Invalid("the legal name is empty", code="empty_legal_name")
    country = geography.country(values["country"])
    return {
        **values,
        "legal_name": legal_name,
        "country": country,
        "aliases": [a for a in names(values.get("aliases") or []) if a.casefold() != legal_name.casefold()],
        "registration_number": identifier(values.get("registration_number")),
        "tax_number": identifier(values.get("tax_number")),
        "region": geography.region(country, values.get("region")),
        "addresses": [address(a) for a in values.get("addresses") or []],
        "contacts": list(values.get("contacts") or []),
        "minerals": hs_codes(values.get("minerals") or []),
        "smelter_facility_id": facility_id(actor_type, values.get("smelter_facility_id")),
    }


# What a user edits (the rest is set by the workflow).
EDITABLE_FIELDS = (
    "actor_type",
    "legal_name",
    "aliases",
    "registration_number",
    "tax_number",
    "country",
    "region",
    "addresses",
    "contacts",
    "minerals",
    "smelter_facility_id",
)
