"""Traceability tables: the append-only custody log, one per organisation, and which lots each event touches.

The contract (read by services/traceability/proofs and epcis.py; change it only with them):

custody_event: one row per custody event, never updated or deleted.
  event_id     UUID primary key.
  org_id       the organisation whose log holds the event.
  seq          BIGINT, the event's position in the org's log: 0-based, gapless, unique (org_id, seq). Assigned while
               holding the org's custody_log_head row (SELECT ... FOR UPDATE), so concurrent writers serialise per
               organisation and never leave a gap or a duplicate.
  kind         creation | transfer_initiated | transfer_confirmed | transformation | export | receipt | correction.
  body         the event as canonical JSON: domain.canonical.canonical_body(obj) =
               json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False). The object holds
               event_id, seq, kind, org_id, lot ids (inputs/outputs/subject), actors, masses (kg), times,
               corrects_event_id (or null) and prev_hash; so the body alone re-derives the chain.
  prev_hash    hex sha256 of the previous event of the org's log ("0" * 64 for seq 0).
  hash         hex sha256 of body encoded as UTF-8.
  recorded_at  when the row was written (timestamptz).

custody_event_lot: which lots an event touches, and how.
  (event_id, lot_id, role) primary key; role is input | output | subject.

custody_log_head: one row per organisation, the lock that orders its log.
  org_id primary key; next_seq = the seq the next event gets; last_hash = hash of the event at next_seq - 1
  ("0" * 64 while the log is empty).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlmodel import Field

from libs.common.db import UtcDateTime
from services.traceability.tables.base import TraceabilityTable

EVENT_KINDS = (
    "creation",
    "transfer_initiated",
    "transfer_confirmed",
    "transformation",
    "export",
    "receipt",
    "correction",
)
LOT_ROLES = ("input", "output", "subject")


class CustodyEventRow(TraceabilityTable, table=True):
    """One event of an organisation's append-only custody log; see the module docstring for the contract."""

    __tablename__ = "custody_event"
    __table_args__ = (sa.UniqueConstraint("org_id", "seq", name="uq_custody_event_org_id_seq"),)

    event_id: UUID = Field(sa_column=sa.Column(sa.Uuid(), primary_key=True))
    org_id: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    seq: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    body: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    prev_hash: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    hash: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    recorded_at: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False))


class CustodyEventLotRow(TraceabilityTable, table=True):
    """A lot an event touches: `input` of a transformation, `output` of one, or the `subject` of any other event."""

    __tablename__ = "custody_event_lot"
    __table_args__ = (sa.Index("ix_custody_event_lot_lot_id", "lot_id"),)

    event_id: UUID = Field(sa_column=sa.Column(sa.Uuid(), primary_key=True))
    lot_id: UUID = Field(sa_column=sa.Column(sa.Uuid(), primary_key=True))
    role: str = Field(sa_column=sa.Column(sa.Text(), primary_key=True))


class CustodyLogHeadRow(TraceabilityTable, table=True):
    """The per-organisation lock row of the custody log: the next seq to hand out and the hash to chain to."""

    __tablename__ = "custody_log_head"

    org_id: str = Field(sa_column=sa.Column(sa.String(100), primary_key=True))
    next_seq: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    last_hash: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
