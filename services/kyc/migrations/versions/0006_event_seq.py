"""event sequence of actors and mine sites: the aggregate_version their events carry

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Events published before this revision carry no version; consumers' copies start over from KYC's next event.
    for table in ("actor", "mine_site"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("event_seq", sa.Integer(), nullable=False, server_default="0"))
        with op.batch_alter_table(table) as batch:
            batch.alter_column("event_seq", server_default=None)  # the models set it; the default was for old rows


def downgrade() -> None:
    for table in ("actor", "mine_site"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("event_seq")
