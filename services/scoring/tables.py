"""SQLModel tables of the scoring service; their base has its own MetaData, so migrations see only ours."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel


class ScoringTable(SQLModel):
    metadata = sa.MetaData()
