"""mine site location check: where the location lies against the declared country's outline

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mine_site") as batch:
        batch.add_column(sa.Column("location_check", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mine_site") as batch:
        batch.drop_column("location_check")
