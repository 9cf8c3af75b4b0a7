"""actor search: legal name, aliases and registration number folded (no case, no accents) in an indexed column

Revision ID: 0011
Revises: 0010
"""

import json

import sqlalchemy as sa
from alembic import op

from libs.common.search import search_text

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

actor = sa.table(
    "actor",
    sa.column("id", sa.Uuid()),
    sa.column("legal_name", sa.String()),
    sa.column("aliases", sa.JSON()),
    sa.column("registration_number", sa.String()),
    sa.column("search_text", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("actor") as batch:
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("actor") as batch:
        batch.alter_column("search_text", server_default=None)  # the repository writes it; the default was for old rows
    connection = op.get_bind()
    rows = connection.execute(sa.select(actor.c.id, actor.c.legal_name, actor.c.aliases, actor.c.registration_number))
    for row in rows.all():
        aliases = json.loads(row.aliases) if isinstance(row.aliases, str) else row.aliases or []
        identifiers = [row.registration_number] if row.registration_number else []
        kept = search_text([row.legal_name, *aliases], identifiers=identifiers)
        connection.execute(sa.update(actor).where(actor.c.id == row.id).values(search_text=kept))
    if connection.dialect.name == "postgresql":
        # pg_trgm ships with PostgreSQL (contrib) and is a trusted extension: the database's owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            "ix_actor_search_text",
            "actor",
            ["search_text"],
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
    else:
        op.create_index("ix_actor_search_text", "actor", ["search_text"])


def downgrade() -> None:
    op.drop_index("ix_actor_search_text", table_name="actor")
    with op.batch_alter_table("actor") as batch:
        batch.drop_column("search_text")
