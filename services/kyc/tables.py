"""SQLModel tables of the kyc service; their base has its own MetaData, so migrations see only ours."""
from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel


class KycTable(SQLModel):
    metadata = sa.MetaData()
