"""sites — mine sites, inspections, country and region risk

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from libs.common.db import UtcDateTime
from libs.common.migrations import BIG_ID as BigId

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mine_site",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("operator_actor_id", sa.Uuid(), nullable=True),
        sa.Column("location", sa.JSON(), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("region", sa.String(10), nullable=True),
        sa.Column("minerals", sa.JSON(), nullable=False),
        sa.Column("capacity_kg_per_month", sa.Float(), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("status_since_date", sa.Date(), nullable=False),
        sa.Column("registered_date", sa.Date(), nullable=False),
        sa.Column("last_inspection_date", sa.Date(), nullable=True),
        sa.Column("turns_blue_date", sa.Date(), nullable=True),
        sa.Column("turns_red_date", sa.Date(), nullable=True),
        sa.Column("area_risk", sa.String(20), nullable=True),
        sa.Column("risk_table_version", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_mine_site_org_id_name", "mine_site", ["org_id", "name"])
    op.create_index("ix_mine_site_turns_blue_date", "mine_site", ["turns_blue_date"])
    op.create_index("ix_mine_site_turns_red_date", "mine_site", ["turns_red_date"])
    op.create_table(
        "site_inspection",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.String(100), nullable=False),
        sa.Column("site_id", sa.Uuid(), sa.ForeignKey("mine_site.id"), nullable=False),
        sa.Column("inspection_date", sa.Date(), nullable=False),
        sa.Column("inspector", sa.String(200), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("result", sa.String(10), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("report_document_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_site_inspection_site_id", "site_inspection", ["site_id", "inspection_date"])
    op.create_table(
        "site_status_change",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("org_id", sa.String(100), nullable=False),
        sa.Column("site_id", sa.Uuid(), sa.ForeignKey("mine_site.id"), nullable=False),
        sa.Column("previous_status", sa.String(10), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(30), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("inspection_id", sa.Uuid(), sa.ForeignKey("site_inspection.id"), nullable=True),
        sa.Column("area_risk", sa.String(20), nullable=True),
        sa.Column("risk_table_version", sa.Integer(), nullable=True),
        sa.Column("changed_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_site_status_change_site_id", "site_status_change", ["site_id", "id"])
    op.create_table(
        "risk_table",
        sa.Column("org_id", sa.String(100), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("area_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "risk_area",
        sa.Column("org_id", sa.String(100), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("area", sa.String(10), primary_key=True),
        sa.Column("level", sa.String(30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["org_id", "version"], ["risk_table.org_id", "risk_table.version"]),
    )


def downgrade() -> None:
    op.drop_table("risk_area")
    op.drop_table("risk_table")
    op.drop_table("site_status_change")
    op.drop_table("site_inspection")
    op.drop_table("mine_site")
