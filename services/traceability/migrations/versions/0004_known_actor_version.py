"""known_actor keeps the KYC aggregate version it reflects, and the actor's country and region

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows from before carry no version (0): the next event of their actor, whatever its version, replaces them.
    with op.batch_alter_table("known_actor") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("country", sa.String(2), nullable=False, server_default=""))
        batch.add_column(sa.Column("region", sa.String(10), nullable=True))
    with op.batch_alter_table("known_actor") as batch:  # the upsert sets both; the defaults were for old rows
        batch.alter_column("version", server_default=None)
        batch.alter_column("country", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("known_actor") as batch:
        batch.drop_column("region")
        batch.drop_column("country")
        batch.drop_column("version")
