"""Text as the register keeps it: whitespace collapsed, lists of names without blanks or duplicates."""

from __future__ import annotations

from collections.abc import Iterable

from libs.common.errors import Invalid


def clean_text(value: str | None) -> str | None:
    """Whitespace collapsed; empty becomes None."""
    if value is None:
        return None
    text = " ".join(value.split())
    return text or None


def upper_bounded(text: str, limit: int, *, what: str) -> str:
    """Upper-cased, still within `limit` characters: a few letters grow when upper-cased ("ß" is "SS")."""
    upper = text.upper()
    if len(upper) > limit:
        raise Invalid(f"the {what} is longer than {limit} characters once upper-cased", code="too_long", field=what)
    return upper


def names(values: Iterable[str]) -> list[str]:
    """Aliases as kept: trimmed, empty ones dropped, duplicates (ignoring case) removed, order kept."""
    seen: set[str] = set()
    kept = []
    for value in values:
        text = clean_text(value)
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            kept.append(text)
    return kept
