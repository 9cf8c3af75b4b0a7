"""platform bus: outbox traceparent and pending index in id order, outbox_epoch replaces outbox_marker, dead_letter

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from libs.common.migrations import platform_0002, platform_0002_downgrade

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    platform_0002(op)


def downgrade() -> None:
    platform_0002_downgrade(op)
