"""SQLModel tables of the incidents service; their base has its own MetaData, so migrations see only ours."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel


class IncidentsTable(SQLModel):
    metadata = sa.MetaData()
