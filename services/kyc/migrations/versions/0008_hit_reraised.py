"""screening hits say why a dismissed pair is raised again: what was screened, the entry's list version, the reason

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("screening_hit") as batch:
        batch.add_column(sa.Column("subject_fields", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("entry_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reraised_because", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("screening_hit") as batch:
        batch.drop_column("reraised_because")
        batch.drop_column("entry_version")
        batch.drop_column("subject_fields")
