"""known_site.region, known_incident.category/reference, known_score.factors/computed_at: what the smelter view shows

Revision ID: 0102
Revises: 0101
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from libs.common.db import UtcDateTime

revision = "0102"
down_revision = "0101"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("known_site", sa.Column("region", sa.String(100), nullable=True))
    op.add_column("known_incident", sa.Column("category", sa.String(100), nullable=True))
    op.add_column("known_incident", sa.Column("reference", sa.String(100), nullable=True))
    op.add_column("known_score", sa.Column("factors", sa.JSON(), nullable=True))
    op.add_column("known_score", sa.Column("computed_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("known_score", "computed_at")
    op.drop_column("known_score", "factors")
    op.drop_column("known_incident", "reference")
    op.drop_column("known_incident", "category")
    op.drop_column("known_site", "region")
