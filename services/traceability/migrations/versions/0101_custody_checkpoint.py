"""custody_checkpoint: signed tree heads of each organisation's custody log

Revision ID: 0101
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from libs.common.db import UtcDateTime

revision = "0101"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "custody_checkpoint",
        sa.Column("org_id", sa.String(100), primary_key=True),
        sa.Column("tree_size", sa.BigInteger(), primary_key=True),
        sa.Column("root_hash", sa.Text(), nullable=False),
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("signed_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("custody_checkpoint")
