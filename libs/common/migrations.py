"""Alembic helpers shared by every service: the env.py body and the platform tables' migration steps.

The platform tables (outbox, inbox, leases, ...) live in every service database, so their revisions are written
once here and called from each service's revision files. Each step is history: it spells out the tables as they
were when the step was written and never reads libs/common/tables.py, so a database migrated years ago and one
created today end up with the same schema. A change to the platform tables needs a new step here (and a revision
calling it in every service); the migration tests compare each service's head with the models.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config

from libs.common.db import UtcDateTime, is_sqlite, make_engine, normalize_url
from libs.common.tables import PlatformTable

ROOT = Path(__file__).resolve().parents[2]

# Frozen copies of the model-side helpers: revisions must not change when the models do.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PUBLISHED_IS_NULL = "published_at IS NULL"
REPLAYED_IS_NULL = "replayed_at IS NULL"


def alembic_config(service: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "services" / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(service: str, url: str, revision: str = "head") -> None:
    """Bring a service's database to `revision`; safe to run on every start."""
    command.upgrade(alembic_config(service, url), revision)


def downgrade(service: str, url: str, revision: str) -> None:
    command.downgrade(alembic_config(service, url), revision)


def compare_options() -> dict[str, Any]:
    """The options autogenerate runs with, in env.py and in the tests that compare head with the models.

    Alembic's own type comparison already looks through TypeDecorators (UtcDateTime compares as
    DateTime(timezone=True), so a plain TIMESTAMP column is reported), hence no custom `compare_type`."""
    return {"compare_type": True, "compare_server_default": True}


def run_env(service_metadata: sa.MetaData) -> None:
    """The body of every service's migrations/env.py (online mode, async engine)."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None  # alembic_config sets it
    metadata = [PlatformTable.metadata, service_metadata]

    def _migrate(connection: sa.Connection) -> None:
        context.configure(
            connection=connection, target_metadata=metadata, render_as_batch=is_sqlite(url), **compare_options()
        )
        with context.begin_transaction():
            if not is_sqlite(url):  # API replicas start together: one migrates, the others wait, then find it done
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('assay-migrations'))"))
            context.run_migrations()

    async def _run() -> None:
        engine = make_engine(url)
        async with engine.connect() as connection:
            await connection.run_sync(_migrate)
            await connection.commit()
        await engine.dispose()

    asyncio.run(_run())


# --- platform 0001: the tables of the first commit (14b31d7) -------------------------------------------------


def platform_0001(op: Any) -> None:
    """Outbox, outbox leases (16 buckets, seeded), inbox (processed_event) and scheduled job leases."""
    op.create_table(
        "outbox_message",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("bucket", sa.SmallInteger(), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=True),
    )
    op.create_index(
        "ix_outbox_message_pending",
        "outbox_message",
        ["bucket", "id"],
        postgresql_where=sa.text(PUBLISHED_IS_NULL),
        sqlite_where=sa.text(PUBLISHED_IS_NULL),
    )
    op.create_index("ix_outbox_message_published_at", "outbox_message", ["published_at"])
    lease = op.create_table(
        "outbox_lease",
        sa.Column("bucket", sa.SmallInteger(), primary_key=True, autoincrement=False),
    )
    op.bulk_insert(lease, [{"bucket": b} for b in range(16)])
    op.create_table(
        "processed_event",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("processed_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_processed_event_processed_at", "processed_event", ["processed_at"])
    op.create_table(
        "scheduled_job",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("last_started_at", UtcDateTime(), nullable=True),
        sa.Column("last_finished_at", UtcDateTime(), nullable=True),
    )


def platform_0001_downgrade(op: Any) -> None:
    for table in ("scheduled_job", "processed_event", "outbox_lease", "outbox_message"):
        op.drop_table(table)


# --- platform 0002: outbox trace context and pending index in id order, epochs instead of markers, dead letters ---


def platform_0002(op: Any) -> None:
    """From the first commit's platform tables to those of issue 7.

    Databases reach 0001 in three shapes, all reporting the same revision: created at the first commit (pending
    index on (bucket, id)), after 7de848f (pending index on (id, bucket)), or after a227071 (also `outbox_marker`).
    This step brings each of them to the same schema."""
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("traceparent", sa.String(55), nullable=True))
    op.drop_index("ix_outbox_message_pending", table_name="outbox_message")
    op.create_index(
        "ix_outbox_message_pending",
        "outbox_message",
        ["id", "bucket"],
        postgresql_where=sa.text(PUBLISHED_IS_NULL),
        sqlite_where=sa.text(PUBLISHED_IS_NULL),
    )
    if sa.inspect(op.get_bind()).has_table("outbox_marker"):
        op.drop_table("outbox_marker")
    op.create_table(
        "outbox_epoch",
        sa.Column("topic", sa.String(200), primary_key=True),
        sa.Column("epoch", sa.String(200), nullable=False),
        sa.Column("changed_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "dead_letter",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("event_id", sa.String(300), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(200), nullable=True),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failed_at", UtcDateTime(), nullable=False),
        sa.Column("replayed_at", UtcDateTime(), nullable=True),
        sa.UniqueConstraint("consumer", "event_id", name="uq_dead_letter_consumer_event"),
    )
    op.create_index(
        "ix_dead_letter_pending",
        "dead_letter",
        ["consumer", "id"],
        postgresql_where=sa.text(REPLAYED_IS_NULL),
        sqlite_where=sa.text(REPLAYED_IS_NULL),
    )


def platform_0002_downgrade(op: Any) -> None:
    """Back to the 0001 shape (the first commit's: no outbox_marker, pending index on (bucket, id))."""
    op.drop_table("dead_letter")
    op.drop_table("outbox_epoch")
    op.drop_index("ix_outbox_message_pending", table_name="outbox_message")
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("traceparent")
    op.create_index(
        "ix_outbox_message_pending",
        "outbox_message",
        ["bucket", "id"],
        postgresql_where=sa.text(PUBLISHED_IS_NULL),
        sqlite_where=sa.text(PUBLISHED_IS_NULL),
    )
