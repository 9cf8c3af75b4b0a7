"""Alembic helpers shared by every service: the env.py body and the platform tables' migration step."""
from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config

from libs.common.db import is_sqlite, make_engine, normalize_url
from libs.common.tables import OUTBOX_BUCKETS, OutboxLeaseRow, PlatformTable

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(service: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "services" / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(service: str, url: str, revision: str = "head") -> None:
    """Bring a service's database to `revision`; safe to run on every start."""
    command.upgrade(alembic_config(service, url), revision)


def run_env(service_metadata: sa.MetaData) -> None:
    """The body of every service's migrations/env.py (online mode, async engine)."""
    url = context.config.get_main_option("sqlalchemy.url")
    metadata = [PlatformTable.metadata, service_metadata]

    def _migrate(connection: sa.Connection) -> None:
        context.configure(connection=connection, target_metadata=metadata,
                          render_as_batch=is_sqlite(url), compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    async def _run() -> None:
        engine = make_engine(url)
        async with engine.connect() as connection:
            await connection.run_sync(_migrate)
            await connection.commit()
        await engine.dispose()

    asyncio.run(_run())


def create_platform_tables(op) -> None:  # type: ignore[no-untyped-def]
    """Migration step: the outbox, inbox and lease tables, created from their one definition."""
    bind = op.get_bind()
    PlatformTable.metadata.create_all(bind)
    bind.execute(sa.insert(OutboxLeaseRow.__table__), [{"bucket": b} for b in range(OUTBOX_BUCKETS)])


def drop_platform_tables(op) -> None:  # type: ignore[no-untyped-def]
    PlatformTable.metadata.drop_all(op.get_bind())
