"""platform tables as of the first commit: outbox, outbox leases, inbox, scheduled jobs

Revision ID: 0001
Revises:
"""

from alembic import op

from libs.common.migrations import platform_0001, platform_0001_downgrade

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    platform_0001(op)


def downgrade() -> None:
    platform_0001_downgrade(op)
