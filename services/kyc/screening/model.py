"""List entry model shared by importers, matcher and snapshot diffing."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields

KINDS = ("person", "organization", "vessel", "other")


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One listed party; names[0] is the primary name, the rest are aliases."""

    entry_id: str
    kind: str
    names: tuple[str, ...]
    birth_dates: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()
    remarks: str = ""

    @property
    def fingerprint(self) -> str:
        """sha256 of a canonical JSON of every field: equal iff the entry is unchanged."""
        payload = {f.name: getattr(self, f.name) for f in fields(self)}
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


class MalformedList(ValueError):
    """A list file that cannot be trusted as a whole; location points at the bad record."""

    def __init__(self, location: str, reason: str) -> None:
        super().__init__(f"malformed list at {location}: {reason}")
        self.location = location
        self.reason = reason
