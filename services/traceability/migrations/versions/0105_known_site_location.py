"""known_site.latitude/longitude: the representative point of the site's location, for the mine list

Copies made before have none until the site's next event (the columns stay empty in the mine list until then).

Revision ID: 0105
Revises: 0104
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0105"
down_revision = "0104"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("known_site", sa.Column("latitude", sa.Float(), nullable=True))
    op.add_column("known_site", sa.Column("longitude", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("known_site", "longitude")
    op.drop_column("known_site", "latitude")
