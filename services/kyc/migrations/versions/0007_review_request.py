"""review request of an actor: why its review is due before its date (a material change to the approved file)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from libs.common.db import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("actor") as batch:
        batch.add_column(sa.Column("review_reason", sa.String(30), nullable=True))
        batch.add_column(sa.Column("review_requested_fields", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("review_requested_at", UtcDateTime(), nullable=True))
    with op.batch_alter_table("actor") as batch:
        batch.alter_column("review_requested_fields", server_default=None)  # the models set it; this was for old rows


def downgrade() -> None:
    with op.batch_alter_table("actor") as batch:
        batch.drop_column("review_requested_at")
        batch.drop_column("review_requested_fields")
        batch.drop_column("review_reason")
