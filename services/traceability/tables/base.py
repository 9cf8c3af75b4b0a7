"""The traceability tables' base, with the service's own MetaData."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel


class TraceabilityTable(SQLModel):
    metadata = sa.MetaData()
