"""Text search that ignores case and accents, alike on PostgreSQL and SQLite: the repository keeps a folded copy of
what is searched in a column of its own (indexed), and a query is folded the same way before it is matched."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

import sqlalchemy as sa

# Kept parts are joined by a character no folded query contains, so a query never matches across two of them.
SEPARATOR = "\n"


def fold(text: str) -> str:
    """Lower case without accents, whitespace collapsed: "Coopérative  MINIÈRE" → "cooperative miniere"."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def compact(text: str) -> str:
    """Letters and digits only, folded: "CD/GOM/RCCM/14-B-1234" → "cdgomrccm14b1234" (numbers typed either way)."""
    return "".join(c for c in fold(text) if c.isalnum())


def search_text(names: Iterable[str], *, identifiers: Iterable[str] = ()) -> str:
    """What the search column keeps: each name folded, each identifier folded and compacted."""
    parts = [fold(n) for n in names if n]
    for identifier in identifiers:
        if identifier:
            parts += [fold(identifier), compact(identifier)]
    return SEPARATOR.join(p for p in parts if p)


def _like(column: sa.ColumnElement[str], needle: str) -> sa.ColumnElement[bool]:
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{escaped}%", escape="\\")


def matches(column: sa.ColumnElement[str], query: str) -> sa.ColumnElement[bool]:
    """`column` (kept by search_text) holds the folded query; a query with a digit also matches identifiers
    however they are punctuated."""
    condition = _like(column, fold(query))
    digits = compact(query)
    if any(c.isdigit() for c in digits) and digits != fold(query):
        condition = sa.or_(condition, _like(column, digits))
    return condition
