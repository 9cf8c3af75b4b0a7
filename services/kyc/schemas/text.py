"""Constrained strings of the register's API: bounded, no control characters (PostgreSQL rejects NUL bytes)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints

NO_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def text(max_length: int, *, min_length: int = 1) -> Any:
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length, pattern=NO_CONTROL)]


Name = text(300)
Short = text(100)
Reason = text(2000)
OrgId = text(100)
# Codes are checked by the domain, so a wrong one gets its own problem code (unknown_country, invalid_hs_code...).
CountryCode = text(10, min_length=0)
RegionCode = text(10, min_length=0)
HsCode = text(20, min_length=0)
