"""known_actor read model

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
    op.create_table(
        "known_actor",
        sa.Column("actor_id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.String(100), nullable=False),
        sa.Column("legal_name", sa.String(300), nullable=False),
        sa.Column("actor_type", sa.String(50), nullable=False),
        sa.Column("kyc_status", sa.String(30), nullable=False),
        sa.Column("risk_level", sa.String(30), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_known_actor_org_id", "known_actor", ["org_id"])


def downgrade() -> None:
    op.drop_table("known_actor")
