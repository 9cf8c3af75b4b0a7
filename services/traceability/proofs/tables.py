"""The signed checkpoints of each organisation's custody log."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from libs.common.db import UtcDateTime
from services.traceability.tables.base import TraceabilityTable


class CheckpointRow(TraceabilityTable, table=True):
    """A signed tree head: `statement` is the exact canonical JSON that `signature` (Ed25519, hex) signs."""

    __tablename__ = "custody_checkpoint"

    org_id: str = Field(sa_column=sa.Column(sa.String(100), primary_key=True))
    tree_size: int = Field(sa_column=sa.Column(sa.BigInteger(), primary_key=True))
    root_hash: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    key_id: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    statement: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    signature: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    signed_at: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False))
