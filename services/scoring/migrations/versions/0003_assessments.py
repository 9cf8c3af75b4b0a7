"""frameworks uploaded per organisation, assessments and their evidence

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from libs.common.db import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "framework_version",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.String(100), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("uploaded_by", sa.String(100), nullable=False),
        sa.Column("uploaded_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("org_id", "code", "version", name="uq_framework_version"),
    )
    op.create_table(
        "assessment",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.String(100), nullable=False),
        sa.Column("framework_code", sa.String(64), nullable=False),
        sa.Column("framework_version", sa.String(64), nullable=False),
        sa.Column("subject_type", sa.String(20), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("self_assessment", sa.Boolean(), nullable=False),
        sa.Column("assessor", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("outcome", sa.String(64), nullable=True),
        sa.Column("reviewer", sa.String(100), nullable=True),
        sa.Column("review_note", sa.String(2000), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("submitted_at", UtcDateTime(), nullable=True),
        sa.Column("reviewed_at", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_assessment_subject", "assessment", ["org_id", "subject_id", "framework_code"])
    op.create_table(
        "evidence",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.String(100), nullable=False),
        sa.Column("assessment_id", sa.Uuid(), sa.ForeignKey("assessment.id"), nullable=False),
        sa.Column("requirement_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("text", sa.String(4000), nullable=False),
        sa.Column("filename", sa.String(255), nullable=True),
        sa.Column("content_type", sa.String(100), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("object_key", sa.String(200), nullable=True),
        sa.Column("added_by", sa.String(100), nullable=False),
        sa.Column("added_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_evidence_assessment", "evidence", ["assessment_id"])


def downgrade() -> None:
    op.drop_index("ix_evidence_assessment", "evidence")
    op.drop_table("evidence")
    op.drop_index("ix_assessment_subject", "assessment")
    op.drop_table("assessment")
    op.drop_table("framework_version")
