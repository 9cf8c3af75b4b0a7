"""ISO 3166-1 countries and ISO 3166-2 regions, checked against pycountry's tables."""

from __future__ import annotations

from functools import lru_cache

import pycountry

from libs.common.errors import Invalid


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


@lru_cache(maxsize=1)
def _regions() -> frozenset[str]:
    return frozenset(s.code for s in pycountry.subdivisions)


def country(code: str) -> str:
    """An ISO 3166-1 alpha-2 code, upper-cased; anything else is a clear error."""
    value = (code or "").strip().upper()
    if value not in _countries():
        raise Invalid(f"{code!r} is not an ISO 3166-1 alpha-2 country code", code="unknown_country")
    return value


def region(country_code: str, code: str | None) -> str | None:
    """An ISO 3166-2 subdivision code of `country_code` (e.g. CD-NK for North Kivu), or None."""
    if code is None or not code.strip():
        return None
    value = code.strip().upper()
    if value not in _regions():
        raise Invalid(f"{code!r} is not an ISO 3166-2 region code", code="unknown_region")
    if value.split("-", 1)[0] != country_code:
        raise Invalid(f"region {value} is not in country {country_code}", code="region_country_mismatch")
    return value
