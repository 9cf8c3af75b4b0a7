"""Actors of the register: the rules on their fields (fields.py) and the Actor with its workflow (actor.py)."""

from __future__ import annotations

from services.kyc.domain.actors.actor import AUDITED_FIELDS, Actor, Share
from services.kyc.domain.actors.fields import (
    ACTOR_TYPES,
    EDITABLE_FIELDS,
    RISK_FIELDS,
    SCREENED_FIELDS,
    facility_id,
    hs_codes,
    identifier,
    normalise,
)

__all__ = [
    "ACTOR_TYPES",
    "AUDITED_FIELDS",
    "EDITABLE_FIELDS",
    "RISK_FIELDS",
    "SCREENED_FIELDS",
    "Actor",
    "Share",
    "facility_id",
    "hs_codes",
    "identifier",
    "normalise",
]
