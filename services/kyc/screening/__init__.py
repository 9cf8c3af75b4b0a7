"""Sanctions/watchlist screening: list importers, name normalisation and a blocking match index."""

from .lists import ListEntry, MalformedList, parse_list
from .matcher import DEFAULT_THRESHOLD, Match, ScreeningIndex, Subject, changed_entries

__all__ = [
    "DEFAULT_THRESHOLD",
    "ListEntry",
    "MalformedList",
    "Match",
    "ScreeningIndex",
    "Subject",
    "changed_entries",
    "parse_list",
]
