"""register — actors, persons, licences, documents, history, shares

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from libs.common.db import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _actor()
    _person()
    _licence()
    _document()
    _actor_share()
    _audit_entry()


def _actor() -> None:
    op.create_table(
        "actor",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.String(100), nullable=False),
        sa.Column("actor_type", sa.String(30), nullable=False),
        sa.Column("legal_name", sa.String(300), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("registration_number", sa.String(100), nullable=True),
        sa.Column("tax_number", sa.String(100), nullable=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("region", sa.String(10), nullable=True),
        sa.Column("addresses", sa.JSON(), nullable=False),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.Column("minerals", sa.JSON(), nullable=False),
        sa.Column("smelter_facility_id", sa.String(20), nullable=True),
        sa.Column("kyc_status", sa.String(20), nullable=False),
        sa.Column("risk_level", sa.String(10), nullable=True),
        sa.Column("risk_factors", sa.JSON(), nullable=False),
        sa.Column("risk_table_version", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("submitted_by", sa.String(100), nullable=True),
        sa.Column("submitted_at", UtcDateTime(), nullable=True),
        sa.Column("approved_by", sa.String(100), nullable=True),
        sa.Column("approved_at", UtcDateTime(), nullable=True),
        sa.Column("next_review_date", sa.Date(), nullable=True),
        sa.Column("overdue_notified_for", sa.Date(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_actor_org_status", "actor", ["org_id", "kyc_status"])
    op.create_index("ix_actor_next_review_date", "actor", ["next_review_date"])
    op.create_index("uq_actor_registration", "actor", ["org_id", "country", "registration_number"], unique=True)


def _person() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.String(100), nullable=False),
        sa.Column("actor_id", sa.Uuid(), sa.ForeignKey("actor.id"), nullable=False),
        sa.Column("person_type", sa.String(10), nullable=False),
        sa.Column("full_name", sa.String(300), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("nationality", sa.String(2), nullable=True),
        sa.Column("identifiers", sa.JSON(), nullable=False),
        sa.Column("role", sa.String(30), nullable=False),
        sa.Column("ownership_pct", sa.Float(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_person_actor_id", "person", ["actor_id"])


def _licence() -> None:
    op.create_table(
        "licence",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.String(100), nullable=False),
        sa.Column("actor_id", sa.Uuid(), sa.ForeignKey("actor.id"), nullable=False),
        sa.Column("licence_type", sa.String(30), nullable=False),
        sa.Column("issuer", sa.String(200), nullable=False),
        sa.Column("number", sa.String(100), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("expiring_notified_at", UtcDateTime(), nullable=True),
        sa.Column("expired_notified_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_licence_actor_id", "licence", ["actor_id"])
    op.create_index("ix_licence_valid_to", "licence", ["valid_to"])
    op.create_index("uq_licence_number", "licence", ["org_id", "actor_id", "licence_type", "number"], unique=True)


def _document() -> None:
    op.create_table(
        "document",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.String(100), nullable=False),
        sa.Column("doc_type", sa.String(40), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("object_key", sa.String(200), nullable=False),
        sa.Column("uploaded_by", sa.String(100), nullable=False),
        sa.Column("uploaded_at", UtcDateTime(), nullable=False),
        sa.Column("actor_id", sa.Uuid(), sa.ForeignKey("actor.id"), nullable=True),
        sa.Column("person_id", sa.Uuid(), sa.ForeignKey("person.id", ondelete="SET NULL"), nullable=True),
        sa.Column("licence_id", sa.Uuid(), sa.ForeignKey("licence.id"), nullable=True),
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("inspection_id", sa.Uuid(), nullable=True),
    )
    op.create_index("ix_document_org_id", "document", ["org_id"])
    op.create_index("ix_document_actor_id", "document", ["actor_id"])
    op.create_index("ix_document_licence_id", "document", ["licence_id"])


def _actor_share() -> None:
    op.create_table(
        "actor_share",
        sa.Column("actor_id", sa.Uuid(), sa.ForeignKey("actor.id"), primary_key=True),
        sa.Column("grantee_org_id", sa.String(100), primary_key=True),
        sa.Column("org_id", sa.String(100), nullable=False),
        sa.Column("granted_by", sa.String(100), nullable=False),
        sa.Column("granted_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_actor_share_grantee_org_id", "actor_share", ["grantee_org_id"])


def _audit_entry() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.String(100), nullable=False),
        sa.Column("entity_type", sa.String(30), nullable=False),
        sa.Column("entity_id", sa.String(100), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("user_id", sa.String(100), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_entry_actor", "audit_entry", ["org_id", "actor_id", "at"])
    op.create_index("ix_audit_entry_entity", "audit_entry", ["org_id", "entity_type", "entity_id"])


def downgrade() -> None:
    for table in ("audit_entry", "actor_share", "document", "licence", "person", "actor"):
        op.drop_table(table)
