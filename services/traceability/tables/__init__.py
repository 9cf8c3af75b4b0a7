"""SQLModel tables of the traceability service; their base has its own MetaData, so migrations see only ours."""

from __future__ import annotations

from services.traceability.proofs import tables as proofs_tables  # noqa: F401  (registers custody_checkpoint)
from services.traceability.tables import actors, custody, lots  # noqa: F401  (registers the tables)
from services.traceability.tables.actors import KnownActorRow, KnownIncidentRow, KnownScoreRow, KnownSiteRow
from services.traceability.tables.base import TraceabilityTable
from services.traceability.tables.custody import CustodyEventLotRow, CustodyEventRow, CustodyLogHeadRow
from services.traceability.tables.lots import (
    AnomalyRow,
    CustodyRequestRow,
    LotHolderRow,
    LotInputRow,
    LotRow,
    TagRow,
)

__all__ = [
    "AnomalyRow",
    "CustodyEventLotRow",
    "CustodyEventRow",
    "CustodyLogHeadRow",
    "CustodyRequestRow",
    "KnownActorRow",
    "KnownIncidentRow",
    "KnownScoreRow",
    "KnownSiteRow",
    "LotHolderRow",
    "LotInputRow",
    "LotRow",
    "TagRow",
    "TraceabilityTable",
]
