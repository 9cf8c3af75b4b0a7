"""custody_event: the append-only, hash-chained custody log per organisation, its lots, and its head row

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from libs.common.db import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "custody_event",
        sa.Column("event_id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.String(100), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.Text(), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("org_id", "seq", name="uq_custody_event_org_id_seq"),
    )
    op.create_table(
        "custody_event_lot",
        sa.Column("event_id", sa.Uuid(), primary_key=True),
        sa.Column("lot_id", sa.Uuid(), primary_key=True),
        sa.Column("role", sa.Text(), primary_key=True),
    )
    op.create_index("ix_custody_event_lot_lot_id", "custody_event_lot", ["lot_id"])
    op.create_table(
        "custody_log_head",
        sa.Column("org_id", sa.String(100), primary_key=True),
        sa.Column("next_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("custody_log_head")
    op.drop_index("ix_custody_event_lot_lot_id", table_name="custody_event_lot")
    op.drop_table("custody_event_lot")
    op.drop_table("custody_event")
