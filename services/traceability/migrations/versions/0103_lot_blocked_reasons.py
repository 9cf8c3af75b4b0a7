"""lot.blocked_reasons: why a lot may not move, kept as state (recomputed when a site or incident changes)

Revision ID: 0103
Revises: 0102
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0103"
down_revision = "0102"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The default fills the lots that exist; new rows get theirs from the code (PostgreSQL cannot compare JSON, so a
    # server default on it would be a difference the model check cannot settle).
    op.add_column("lot", sa.Column("blocked_reasons", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    with op.batch_alter_table("lot") as batch:
        batch.alter_column("blocked_reasons", server_default=None)


def downgrade() -> None:
    op.drop_column("lot", "blocked_reasons")
