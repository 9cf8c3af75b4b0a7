"""Text as the register keeps it: whitespace collapsed, lists of names without blanks or duplicates."""

from __future__ import annotations

from collections.abc import Iterable


def clean_text(value: str | None) -> str | None:
    """Whitespace collapsed; empty becomes None."""
    if value is None:
        return None
    text = " ".join(value.split())
    return text or None


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
