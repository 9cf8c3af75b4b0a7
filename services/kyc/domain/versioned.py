"""What the register's aggregates (actors, mine sites) share: the edit token clients send back, and its bump."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from libs.common.errors import Conflict

# The aggregate_version of an event a domain method built: the use case numbers it when it saves the aggregate
# (use_cases/announce.py), since only the database knows the next number of the aggregate's events.
UNNUMBERED = 0


class Versioned:
    """Optimistic concurrency: `version` is what a client last read and sends back with a change. It moves when
    the client's copy goes stale (an edit, a workflow move), not on every event: sharing an actor or screening it
    does not make a pending edit stale (events count in the separate `event_seq`, see announce.py)."""

    noun: ClassVar[str]  # "actor", "mine site": names the aggregate in the stale-version problem
    id: UUID
    version: int
    updated_at: datetime | None

    def check_version(self, expected: int | None) -> None:
        """Refuse a change made on an older copy (None: the client did not say which copy it read)."""
        if expected is not None and expected != self.version:
            raise Conflict(
                f"{self.noun} {self.id} is at version {self.version}, not {expected}; read it again and retry",
                code="stale_version",
                current_version=self.version,
            )

    def touch(self, now: datetime) -> None:
        """A change clients must see before they edit again: the one place the version moves."""
        self.version += 1
        self.updated_at = now
