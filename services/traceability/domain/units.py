"""Mass units by UN/ECE Recommendation 20 code, and their factor to kilograms."""

from __future__ import annotations

from libs.common.errors import Invalid

KG_PER_UNIT: dict[str, float] = {
    "KGM": 1.0,  # kilogram
    "GRM": 0.001,  # gram
    "TNE": 1000.0,  # tonne (metric ton)
    "MGM": 0.000001,  # milligram
    "APZ": 0.0311034768,  # troy ounce (Rec 20 "ounce GB, US (31,103 48 g)"), what gold is weighed in
    "ONZ": 0.028349523125,  # avoirdupois ounce
    "LBR": 0.45359237,  # pound
}


def to_kg(mass: float, unit: str) -> float:
    """`mass` in `unit` as kilograms; an unknown code or a mass that is not positive is refused."""
    factor = KG_PER_UNIT.get(unit)
    if factor is None:
        raise Invalid(f"unknown unit {unit!r}; use a UN/ECE Rec 20 code: {', '.join(KG_PER_UNIT)}", code="unknown_unit")
    if not mass > 0:
        raise Invalid("mass must be greater than zero", code="mass_not_positive")
    return mass * factor
