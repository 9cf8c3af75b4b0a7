"""versions of persons and licences: the edit token a change of one must send back

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("person", "licence"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        with op.batch_alter_table(table) as batch:
            batch.alter_column("version", server_default=None)  # the models set it; the default was for old rows


def downgrade() -> None:
    for table in ("person", "licence"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
