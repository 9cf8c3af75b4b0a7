"""Constrained strings of the register's API: bounded, no control characters (PostgreSQL rejects NUL bytes)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints

from services.kyc import lengths

NO_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def text(max_length: int, *, min_length: int = 1) -> Any:
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length, pattern=NO_CONTROL)]


# Lengths come from services/kyc/lengths.py, which the tables' columns use too.
Name = text(lengths.NAME)
Short = text(lengths.IDENTIFIER)
Issuer = text(lengths.ISSUER)
Reason = text(2000)
OrgId = text(lengths.ORG_ID)
FacilityId = text(lengths.SMELTER_FACILITY_ID)
WatchlistName = text(lengths.WATCHLIST_NAME)
# Codes are checked by the domain, so a wrong one gets its own problem code (unknown_country, invalid_hs_code...).
CountryCode = text(lengths.CODE_INPUT, min_length=0)
RegionCode = text(lengths.CODE_INPUT, min_length=0)
HsCode = text(lengths.HS_CODE_INPUT, min_length=0)
