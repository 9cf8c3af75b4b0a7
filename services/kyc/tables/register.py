"""KYC tables: register — actors, their persons, licences, documents, shares and the audit trail."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlmodel import Field

from libs.common.db import UtcDateTime
from services.kyc import lengths
from services.kyc.tables.base import KycTable


def _json(nullable: bool = False) -> Any:
    return sa.Column(sa.JSON, nullable=nullable)


def _ts(nullable: bool = False) -> Any:
    return sa.Column(UtcDateTime, nullable=nullable)


class ActorRow(KycTable, table=True):
    """An upstream actor in one operator's register; `version` guards concurrent edits."""

    __tablename__ = "actor"
    __table_args__ = (
        sa.Index("ix_actor_org_status", "org_id", "kyc_status"),
        sa.Index("ix_actor_next_review_date", "next_review_date"),
        sa.Index("uq_actor_registration", "org_id", "country", "registration_number", unique=True),
        # Trigram index on PostgreSQL, for `LIKE '%…%'` on the folded names (a plain one on SQLite).
        sa.Index(
            "ix_actor_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    id: UUID = Field(primary_key=True)
    org_id: str = Field(max_length=lengths.ORG_ID)
    actor_type: str = Field(max_length=30)
    legal_name: str = Field(max_length=lengths.NAME)
    aliases: list[str] = Field(default_factory=list, sa_column=_json())
    registration_number: str | None = Field(default=None, max_length=lengths.IDENTIFIER)
    tax_number: str | None = Field(default=None, max_length=lengths.IDENTIFIER)
    country: str = Field(max_length=lengths.COUNTRY)
    region: str | None = Field(default=None, max_length=lengths.REGION)
    addresses: list[dict] = Field(default_factory=list, sa_column=_json())
    contacts: list[dict] = Field(default_factory=list, sa_column=_json())
    minerals: list[str] = Field(default_factory=list, sa_column=_json())
    smelter_facility_id: str | None = Field(default=None, max_length=lengths.SMELTER_FACILITY_ID)
    kyc_status: str = Field(max_length=20)
    risk_level: str | None = Field(default=None, max_length=10)
    risk_factors: list[str] = Field(default_factory=list, sa_column=_json())
    risk_table_version: int | None = Field(default=None)
    created_by: str = Field(max_length=100)
    submitted_by: str | None = Field(default=None, max_length=100)
    submitted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    approved_by: str | None = Field(default=None, max_length=100)
    approved_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    next_review_date: date | None = Field(default=None)
    overdue_notified_for: date | None = Field(default=None)
    review_reason: str | None = Field(default=None, max_length=30)
    review_requested_fields: list[str] = Field(default_factory=list, sa_column=_json())
    review_requested_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())
    version: int = Field(default=1)
    # The last event's number (its aggregate_version). Apart from `version`, the edit token clients send back, so a
    # share, a screening or a hit decision does not make a client's pending edit stale.
    event_seq: int = Field(default=0)
    # Legal name, aliases and registration number folded (libs.common.search), kept by the repository on each save.
    search_text: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))


class PersonRow(KycTable, table=True):
    """A beneficial owner or key person (natural or legal) of an actor."""

    __tablename__ = "person"
    __table_args__ = (sa.Index("ix_person_actor_id", "actor_id"),)

    id: UUID = Field(primary_key=True)
    org_id: str = Field(max_length=lengths.ORG_ID)
    actor_id: UUID = Field(foreign_key="actor.id")
    person_type: str = Field(max_length=10)
    full_name: str = Field(max_length=lengths.NAME)
    aliases: list[str] = Field(default_factory=list, sa_column=_json())
    birth_date: date | None = Field(default=None)
    nationality: str | None = Field(default=None, max_length=lengths.COUNTRY)
    identifiers: list[str] = Field(default_factory=list, sa_column=_json())
    role: str = Field(max_length=30)
    ownership_pct: float | None = Field(default=None)
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())
    version: int = Field(default=1)  # the edit token clients send back


class LicenceRow(KycTable, table=True):
    """A licence or permit; the *_notified_at marks make each expiry event fire once."""

    __tablename__ = "licence"
    __table_args__ = (
        sa.Index("ix_licence_actor_id", "actor_id"),
        sa.Index("ix_licence_valid_to", "valid_to"),
        sa.Index("uq_licence_number", "org_id", "actor_id", "licence_type", "number", unique=True),
    )

    id: UUID = Field(primary_key=True)
    org_id: str = Field(max_length=lengths.ORG_ID)
    actor_id: UUID = Field(foreign_key="actor.id")
    licence_type: str = Field(max_length=30)
    issuer: str = Field(max_length=lengths.ISSUER)
    number: str = Field(max_length=lengths.IDENTIFIER)
    valid_from: date
    valid_to: date | None = Field(default=None)
    expiring_notified_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    expired_notified_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())
    version: int = Field(default=1)  # the edit token clients send back; expiry marks do not move it


class DocumentRow(KycTable, table=True):
    """Metadata of a stored file; the bytes live in object storage under their sha256."""

    __tablename__ = "document"
    __table_args__ = (
        sa.Index("ix_document_org_id", "org_id"),
        sa.Index("ix_document_actor_id", "actor_id"),
        sa.Index("ix_document_licence_id", "licence_id"),
    )

    id: UUID = Field(primary_key=True)
    org_id: str = Field(max_length=100)
    doc_type: str = Field(max_length=40)
    filename: str = Field(max_length=lengths.FILENAME)
    content_type: str = Field(max_length=100)
    size: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    sha256: str = Field(max_length=64)
    object_key: str = Field(max_length=200)
    uploaded_by: str = Field(max_length=100)
    uploaded_at: datetime = Field(sa_column=_ts())
    actor_id: UUID | None = Field(default=None, foreign_key="actor.id")
    person_id: UUID | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    licence_id: UUID | None = Field(default=None, foreign_key="licence.id")
    site_id: UUID | None = Field(default=None)
    inspection_id: UUID | None = Field(default=None)


class ActorShareRow(KycTable, table=True):
    """The owning operator lets another organisation read one actor (and its licences)."""

    __tablename__ = "actor_share"
    __table_args__ = (sa.Index("ix_actor_share_grantee_org_id", "grantee_org_id"),)

    actor_id: UUID = Field(foreign_key="actor.id", primary_key=True)
    grantee_org_id: str = Field(max_length=lengths.ORG_ID, primary_key=True)
    org_id: str = Field(max_length=lengths.ORG_ID)
    granted_by: str = Field(max_length=100)
    granted_at: datetime = Field(sa_column=_ts())


class AuditEntryRow(KycTable, table=True):
    """Who changed what when: field-level before/after; `actor_id` groups an actor's whole file."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        sa.Index("ix_audit_entry_actor", "org_id", "actor_id", "at"),
        sa.Index("ix_audit_entry_entity", "org_id", "entity_type", "entity_id"),
    )

    id: UUID = Field(primary_key=True)
    org_id: str = Field(max_length=100)
    entity_type: str = Field(max_length=30)
    entity_id: str = Field(max_length=100)
    actor_id: UUID | None = Field(default=None)
    action: str = Field(max_length=50)
    user_id: str = Field(max_length=100)
    at: datetime = Field(sa_column=_ts())
    changes: dict = Field(default_factory=dict, sa_column=_json())
