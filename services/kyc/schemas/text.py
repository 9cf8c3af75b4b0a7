"""Constrained strings of the register's API: bounded, no control characters (PostgreSQL rejects NUL bytes)."""

from __future__ import annotations

from libs.common.schemas import NO_CONTROL, search_query, text
from services.kyc import lengths

__all__ = ["NO_CONTROL", "search_query", "text"]


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
