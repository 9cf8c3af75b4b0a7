"""Field normalisers shared by the list importers: countries, dates, identifiers."""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Iterable
from functools import lru_cache

import pycountry
from anyascii import anyascii

# Spellings lists actually use that pycountry does not know (or maps elsewhere).
_COUNTRY_ALIASES = {
    "russia": "RU",
    "turkey": "TR",
    "kosovo": "XK",
    "drc": "CD",
    "dr congo": "CD",
    "congo kinshasa": "CD",
    "democratic republic congo": "CD",
    "zaire": "CD",
    "congo brazzaville": "CG",
    "republic congo": "CG",
    "ivory coast": "CI",
    "north korea": "KP",
    "south korea": "KR",
    "burma": "MM",
    "laos": "LA",
    "vietnam": "VN",
    "macedonia": "MK",
    "swaziland": "SZ",
    "czech republic": "CZ",
    "palestine": "PS",
    "united states": "US",
    "usa": "US",
    "united states america": "US",
    "uk": "GB",
    "united kingdom": "GB",
    "great britain": "GB",
    "iran": "IR",
    "syria": "SY",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "moldova": "MD",
}
_FILLER = {"the", "of", "and"}
_MONTHS = {
    m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}


def _country_key(name: str) -> str:
    words = re.sub(r"[^a-z0-9]+", " ", anyascii(name).casefold()).split()
    return " ".join(sorted(w for w in words if w not in _FILLER))


@lru_cache(maxsize=1)
def _country_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                table[_country_key(value)] = country.alpha_2
    for alias, code in _COUNTRY_ALIASES.items():
        table[_country_key(alias)] = code
    return table


@lru_cache(maxsize=8192)
def country_code(value: str) -> str:
    """ISO alpha-2 for a code or country name; the cleaned input when not derivable."""
    text = value.strip()
    if len(text) == 2 and text.isalpha():
        return text.upper()
    if len(text) == 3 and text.isalpha() and (c := pycountry.countries.get(alpha_3=text.upper())):
        return c.alpha_2
    return _country_table().get(_country_key(text)) or sys.intern(text.upper())


def _iso(year: int, month: int = 0, day: int = 0) -> str:
    if not 1800 <= year <= 2100:
        raise ValueError(f"implausible year {year}")
    if not month or not day:
        return f"{year:04d}"
    return dt.date(year, month, day).isoformat()  # raises on 1971-02-30


def parse_date(value: str) -> str:
    """'1971-06-04', '1971', '1971-00-00', '12 Jun 1962', 'Jun 1962', 'circa 1962' -> ISO."""
    text = value.strip().casefold().removeprefix("circa").removeprefix("approximately").strip()
    if m := re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:t[\d:.z+-]*)?", text):
        return _iso(int(m[1]), int(m[2] or 0), int(m[3] or 0))
    if m := re.fullmatch(r"(?:(\d{1,2})\s+)?([a-z]{3})[a-z]*\.?\s+(\d{4})", text):
        if m[2] not in _MONTHS:
            raise ValueError(f"unknown month in {value!r}")
        return _iso(int(m[3]), _MONTHS[m[2]], int(m[1] or 0))
    raise ValueError(f"unparseable date {value!r}")


def year_range(start: str, end: str) -> tuple[str, ...]:
    """A 'between' birth date as the years it covers (bounded: wide ranges keep the ends)."""
    lo, hi = int(parse_date(start)[:4]), int(parse_date(end)[:4])
    if hi < lo:
        raise ValueError(f"date range {start}..{end} runs backwards")
    years = range(lo, hi + 1) if hi - lo <= 10 else (lo, hi)
    return tuple(str(y) for y in years)


def identifier(value: str) -> str:
    """Upper case, ASCII, no spaces or punctuation: 'rccm/ 123-a' -> 'RCCM123A'."""
    return re.sub(r"[^0-9A-Z]", "", anyascii(value).upper())


def clean(value: str | None) -> str:
    """Collapse whitespace; None -> ''."""
    return " ".join(value.split()) if value else ""


def unique(values: Iterable[str]) -> tuple[str, ...]:
    """Order-preserving de-duplication dropping empty strings."""
    return tuple(dict.fromkeys(v for v in values if v))
