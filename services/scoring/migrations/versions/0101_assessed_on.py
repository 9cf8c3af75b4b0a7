"""assessments: the day each was made (assessed_on), in the register and in the risk read model

Revision ID: 0101
Revises: 0100
"""

import sqlalchemy as sa
from alembic import op

revision = "0101"
down_revision = "0100"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: rows from before have none, and are read as made on the day they were created (reviewed).
    op.add_column("assessment", sa.Column("assessed_on", sa.Date(), nullable=True))
    op.add_column("risk_assessment", sa.Column("assessed_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("risk_assessment") as batch:
        batch.drop_column("assessed_on")
    with op.batch_alter_table("assessment") as batch:
        batch.drop_column("assessed_on")
