"""SQLModel tables of the traceability service; their base has its own MetaData, so migrations see only ours."""

from __future__ import annotations

from services.traceability.proofs import tables as proofs_tables  # noqa: F401  (registers custody_checkpoint)
from services.traceability.tables import actors, custody  # noqa: F401  (registers the tables)
from services.traceability.tables.actors import KnownActorRow
from services.traceability.tables.base import TraceabilityTable
from services.traceability.tables.custody import CustodyEventLotRow, CustodyEventRow, CustodyLogHeadRow

__all__ = ["CustodyEventLotRow", "CustodyEventRow", "CustodyLogHeadRow", "KnownActorRow", "TraceabilityTable"]
