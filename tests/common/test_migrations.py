"""Migrations are history: every service's head equals its models, old databases reach it, downgrades work.

Each test makes fresh databases of its own: SQLite files always, and PostgreSQL databases (`assay_mig_*`) on the
server tests/support/servers.find_postgres() finds (skipped when there is none, or with TEST_DATABASE_URL=sqlite).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from libs.common import migrations
from libs.common.db import UtcDateTime, make_engine
from libs.common.tables import (
    DeadLetterRow,
    OutboxEpochRow,
    OutboxLeaseRow,
    OutboxMessageRow,
    PlatformTable,
    ProcessedEventRow,
)
from services.incidents.tables import IncidentsTable
from services.kyc.tables import KycTable
from services.scoring.tables import ScoringTable
from services.traceability.tables import TraceabilityTable
from tests.support import servers

SERVICE_METADATA = {
    "kyc": KycTable.metadata,
    "incidents": IncidentsTable.metadata,
    "traceability": TraceabilityTable.metadata,
    "scoring": ScoringTable.metadata,
}
# The head each service had before the platform bus revision (what a database migrated at f824f0f reports).
BEFORE_BUS = {"kyc": "0004", "incidents": "0001", "traceability": "0002", "scoring": "0001"}
BUS = {"kyc": "0005", "incidents": "0002", "traceability": "0003", "scoring": "0002"}
PLATFORM_TABLES = {"outbox_message", "outbox_lease", "outbox_epoch", "dead_letter", "processed_event", "scheduled_job"}
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
_names = itertools.count()

backends = pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", id="postgresql")])
services = pytest.mark.parametrize("service", list(SERVICE_METADATA))


# --- fresh databases -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres_admin() -> Iterator[str | None]:
    admin_url, container = servers.find_postgres()
    yield admin_url
    if container is not None:
        container.stop()  # type: ignore[attr-defined]


@pytest.fixture
def new_database(backend: str, tmp_path: Any, request: pytest.FixtureRequest) -> Iterator[Callable[[], str]]:
    """A factory of empty databases on `backend`, dropped after the test."""
    created: list[str] = []
    admin_url = request.getfixturevalue("postgres_admin") if backend == "postgresql" else None
    if backend == "postgresql" and admin_url is None:
        pytest.skip("no PostgreSQL server (TEST_DATABASE_URL=sqlite, or none at 127.0.0.1:5432 or in Docker)")

    def make() -> str:
        name = f"assay_mig_{os.getpid()}_{next(_names)}"
        if admin_url is None:
            return f"sqlite+aiosqlite:///{tmp_path / (name + '.db')}"
        asyncio.run(servers.create_databases(admin_url, [name]))
        created.append(name)
        return servers.with_database(admin_url, name)

    yield make
    if created:
        asyncio.run(servers.drop_databases(admin_url, created))  # type: ignore[arg-type]


def on(url: str, fn: Callable[[sa.Connection], Any]) -> Any:
    """Run `fn` with a sync connection to `url` in one committed transaction."""

    async def run() -> Any:
        engine = make_engine(url)
        try:
            async with engine.begin() as conn:
                return await conn.run_sync(fn)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def table_names(url: str) -> set[str]:
    return on(url, lambda conn: set(sa.inspect(conn).get_table_names())) - {"alembic_version"}


def head(service: str) -> str:
    return ScriptDirectory.from_config(migrations.alembic_config(service, "sqlite://")).get_current_head()


def current_revision(url: str) -> str | None:
    return on(url, lambda conn: MigrationContext.configure(conn).get_current_revision())


# --- the comparison with the models ----------------------------------------------------------------------------


def _where(index: Any) -> str | None:
    """An index's partial WHERE clause, normalised so the model's text and either server's reflection compare."""
    options = index.dialect_kwargs if isinstance(index, sa.Index) else index.get("dialect_options", {})
    clause = options.get("postgresql_where")
    if clause is None:
        clause = options.get("sqlite_where")
    if clause is None:
        return None
    text = re.sub(r"::\w+", "", str(clause))  # PostgreSQL reflects "((status)::text = 'pending'::text)"
    return re.sub(r"\s+", " ", text.replace("(", "").replace(")", "")).strip().lower()


def models(service: str) -> list[sa.MetaData]:
    return [PlatformTable.metadata, SERVICE_METADATA[service]]


def schema_diff(url: str, metadata: list[sa.MetaData]) -> list[Any]:
    """What autogenerate would write for this database, plus partial-index WHERE clauses (autogenerate skips them)."""

    def diff(conn: sa.Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts=migrations.compare_options())
        found: list[Any] = list(compare_metadata(context, metadata))
        inspector = sa.inspect(conn)
        for md in metadata:
            for table in md.tables.values():
                if not inspector.has_table(table.name):
                    continue  # autogenerate reports it
                reflected = {i["name"]: i for i in inspector.get_indexes(table.name)}
                for index in table.indexes:
                    if index.name in reflected and _where(index) != _where(reflected[index.name]):
                        found.append(("index_where", index.name, _where(reflected[index.name]), _where(index)))
        return found

    return on(url, diff)


# --- per service: head equals the models, downgrade to base and back -------------------------------------------


@backends
@services
def test_head_matches_the_models(service: str, new_database: Callable[[], str]) -> None:
    url = new_database()
    migrations.upgrade(service, url)
    assert schema_diff(url, models(service)) == []
    assert table_names(url) == PLATFORM_TABLES | set(SERVICE_METADATA[service].tables)
    leases = on(url, lambda conn: conn.execute(sa.select(OutboxLeaseRow.__table__.c.bucket)).scalars().all())
    assert sorted(leases) == list(range(16))


@backends
@services
def test_downgrade_to_base_and_up_again(service: str, new_database: Callable[[], str]) -> None:
    url = new_database()
    migrations.upgrade(service, url)
    migrations.downgrade(service, url, BEFORE_BUS[service])
    assert "outbox_epoch" not in table_names(url) and "dead_letter" not in table_names(url)
    columns = on(url, lambda conn: {c["name"] for c in sa.inspect(conn).get_columns("outbox_message")})
    assert "traceparent" not in columns
    migrations.downgrade(service, url, "0001")
    assert schema_diff(url, [old_platform("14b31d7")]) == []  # exactly what 0001 makes
    migrations.downgrade(service, url, "base")
    assert table_names(url) == set()
    assert current_revision(url) is None
    migrations.upgrade(service, url)
    assert schema_diff(url, models(service)) == []


def test_revision_chains_are_the_agreed_ones() -> None:
    """Other revisions build on these ids: kyc 0005, incidents 0002, traceability 0003, scoring 0002 are the heads."""
    for service, bus in BUS.items():
        script = ScriptDirectory.from_config(migrations.alembic_config(service, "sqlite://"))
        revision = script.get_revision(bus)
        assert revision is not None and revision.down_revision == BEFORE_BUS[service]
        assert [r.revision for r in script.walk_revisions("base", bus)][-1] == "0001"


# --- rows written at 0001 survive the way to head --------------------------------------------------------------

outbox_v1 = sa.table(
    "outbox_message",
    sa.column("event_id"),
    sa.column("topic"),
    sa.column("key"),
    sa.column("event_type"),
    sa.column("payload"),
    sa.column("bucket"),
    sa.column("occurred_at", UtcDateTime()),
    sa.column("published_at", UtcDateTime()),
)
processed_v1 = sa.table(
    "processed_event",
    sa.column("consumer"),
    sa.column("event_id"),
    sa.column("event_type"),
    sa.column("processed_at", UtcDateTime()),
)
job_v1 = sa.table("scheduled_job", sa.column("name"), sa.column("last_started_at", UtcDateTime()))
actor_v2 = sa.table(
    "actor",
    *(sa.column(n) for n in ("org_id", "actor_type", "legal_name", "country", "kyc_status", "created_by", "version")),
    sa.column("id", sa.Uuid()),
    sa.column("next_review_date", sa.Date()),
    *(sa.column(n, sa.JSON()) for n in ("aliases", "addresses", "contacts", "minerals", "risk_factors")),
    *(sa.column(n, UtcDateTime()) for n in ("created_at", "updated_at")),
)
known_actor_v2 = sa.table(
    "known_actor",
    sa.column("actor_id", sa.Uuid()),
    sa.column("org_id"),
    sa.column("legal_name"),
    sa.column("actor_type"),
    sa.column("kyc_status"),
    sa.column("updated_at", UtcDateTime()),
)
EVENT_ID = str(uuid.UUID(int=1))
ACTOR_ID = uuid.UUID(int=2)


def _platform_rows(conn: sa.Connection) -> None:
    conn.execute(
        sa.insert(outbox_v1),
        [
            dict(
                event_id=EVENT_ID,
                topic="kyc.events",
                key="a",
                event_type="ActorApproved",
                payload="{}",
                bucket=3,
                occurred_at=NOW,
                published_at=None,
            ),
            dict(
                event_id=str(uuid.UUID(int=3)),
                topic="kyc.events",
                key="b",
                event_type="ActorApproved",
                payload="{}",
                bucket=5,
                occurred_at=NOW,
                published_at=NOW,
            ),
        ],
    )
    conn.execute(
        sa.insert(processed_v1).values(
            consumer="scoring", event_id=EVENT_ID, event_type="ActorApproved", processed_at=NOW
        )
    )
    conn.execute(sa.insert(job_v1).values(name="licence-expiry", last_started_at=NOW))


def _service_rows(service: str, conn: sa.Connection) -> None:
    if service == "kyc":
        conn.execute(
            sa.insert(actor_v2).values(
                id=ACTOR_ID,
                org_id="org-1",
                actor_type="trader",
                legal_name="Kivu Traders",
                country="CD",
                kyc_status="approved",
                created_by="u1",
                version=1,
                next_review_date=date(2027, 1, 1),
                aliases=["KT"],
                addresses=[],
                contacts=[],
                minerals=["tin"],
                risk_factors=[],
                created_at=NOW,
                updated_at=NOW,
            )
        )
    elif service == "traceability":
        conn.execute(
            sa.insert(known_actor_v2).values(
                actor_id=ACTOR_ID,
                org_id="org-1",
                legal_name="Kivu Traders",
                actor_type="trader",
                kyc_status="approved",
                updated_at=NOW,
            )
        )


def _assert_rows_kept(service: str, url: str) -> None:
    outbox, processed = OutboxMessageRow.__table__, ProcessedEventRow.__table__

    def read(conn: sa.Connection) -> dict[str, Any]:
        return {
            "outbox": conn.execute(
                sa.select(
                    outbox.c.event_id,
                    outbox.c.bucket,
                    outbox.c.occurred_at,
                    outbox.c.published_at,
                    outbox.c.traceparent,
                ).order_by(outbox.c.id)
            ).all(),
            "pending": conn.execute(sa.select(outbox.c.event_id).where(outbox.c.published_at.is_(None)))
            .scalars()
            .all(),
            "processed": conn.execute(sa.select(processed.c.consumer, processed.c.event_id)).all(),
            "jobs": conn.execute(sa.select(job_v1.c.name)).scalars().all(),
        }

    rows = on(url, read)
    assert [(r.event_id, r.bucket, r.occurred_at, r.traceparent) for r in rows["outbox"]] == [
        (EVENT_ID, 3, NOW, None),
        (str(uuid.UUID(int=3)), 5, NOW, None),
    ]
    assert rows["outbox"][1].published_at == NOW
    assert rows["pending"] == [EVENT_ID]
    assert rows["processed"] == [("scoring", EVENT_ID)]
    assert rows["jobs"] == ["licence-expiry"]
    if service == "kyc":
        from services.kyc.tables.register import ActorRow

        actor = on(url, lambda conn: conn.execute(sa.select(ActorRow.__table__)).one())
        assert (actor.id, actor.legal_name, actor.minerals, actor.created_at) == (
            ACTOR_ID,
            "Kivu Traders",
            ["tin"],
            NOW,
        )
    elif service == "traceability":
        from services.traceability.tables import KnownActorRow

        known = on(url, lambda conn: conn.execute(sa.select(KnownActorRow.__table__)).one())
        assert (known.actor_id, known.kyc_status, known.updated_at) == (ACTOR_ID, "approved", NOW)


def _new_tables_work(url: str) -> None:
    """The tables and column head added take rows through today's models."""

    def write(conn: sa.Connection) -> None:
        conn.execute(
            sa.insert(OutboxMessageRow.__table__).values(
                event_id=str(uuid.UUID(int=9)),
                topic="t",
                key="k",
                event_type="E",
                payload="{}",
                bucket=0,
                occurred_at=NOW,
                traceparent="00-" + "1" * 32 + "-" + "2" * 16 + "-01",
            )
        )
        conn.execute(sa.insert(OutboxEpochRow.__table__).values(topic="t", epoch="e1", changed_at=NOW))
        conn.execute(
            sa.insert(DeadLetterRow.__table__).values(
                consumer="c",
                event_id="t:0:1",
                event_type="E",
                topic="t",
                partition=0,
                offset=1,
                headers="[]",
                value="",
                error="boom",
                attempts=3,
                failed_at=NOW,
            )
        )

    on(url, write)
    with pytest.raises(sa.exc.IntegrityError):  # uq_dead_letter_consumer_event
        on(
            url,
            lambda conn: conn.execute(
                sa.insert(DeadLetterRow.__table__).values(
                    consumer="c",
                    event_id="t:0:1",
                    event_type="E",
                    topic="t",
                    partition=0,
                    offset=2,
                    headers="[]",
                    value="",
                    error="again",
                    attempts=1,
                    failed_at=NOW,
                )
            ),
        )


@backends
@services
def test_rows_written_at_0001_survive_the_upgrade(service: str, new_database: Callable[[], str]) -> None:
    url = new_database()
    migrations.upgrade(service, url, "0001")
    assert schema_diff(url, [old_platform("14b31d7")]) == []  # the first commit's platform tables, no more
    on(url, _platform_rows)
    if service in ("kyc", "traceability"):
        migrations.upgrade(service, url, "0002")
        on(url, lambda conn: _service_rows(service, conn))
    migrations.upgrade(service, url)
    _assert_rows_kept(service, url)
    assert {"outbox_epoch", "dead_letter"} <= table_names(url)
    assert schema_diff(url, models(service)) == []
    _new_tables_work(url)


# --- databases the old 0001 (create_all of the then-current models) made ---------------------------------------


def old_platform(shape: str) -> sa.MetaData:
    """The platform tables `create_all` made at a past commit: 14b31d7 (the first), 7de848f (pending index in id
    order) and a227071 .. f824f0f (also outbox_marker)."""
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    pending = ["bucket", "id"] if shape == "14b31d7" else ["id", "bucket"]
    md = sa.MetaData()
    sa.Table(
        "outbox_message",
        md,
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("bucket", sa.SmallInteger, nullable=False),
        sa.Column("occurred_at", UtcDateTime, nullable=False),
        sa.Column("published_at", UtcDateTime, nullable=True),
        sa.Index(
            "ix_outbox_message_pending",
            *pending,
            postgresql_where=sa.text("published_at IS NULL"),
            sqlite_where=sa.text("published_at IS NULL"),
        ),
        sa.Index("ix_outbox_message_published_at", "published_at"),
    )
    sa.Table("outbox_lease", md, sa.Column("bucket", sa.SmallInteger, primary_key=True, autoincrement=False))
    if shape == "f824f0f":
        sa.Table(
            "outbox_marker",
            md,
            sa.Column("topic", sa.String(200), primary_key=True),
            sa.Column("partition", sa.Integer, nullable=False),
            sa.Column("offset", sa.BigInteger, nullable=False),
            sa.Column("event_id", sa.String(36), nullable=False),
        )
    sa.Table(
        "processed_event",
        md,
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("processed_at", UtcDateTime, nullable=False),
        sa.Index("ix_processed_event_processed_at", "processed_at"),
    )
    sa.Table(
        "scheduled_job",
        md,
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("last_started_at", UtcDateTime, nullable=True),
        sa.Column("last_finished_at", UtcDateTime, nullable=True),
    )
    return md


def _old_0001(shape: str, conn: sa.Connection) -> None:
    md = old_platform(shape)
    md.create_all(conn)
    conn.execute(sa.insert(md.tables["outbox_lease"]), [{"bucket": b} for b in range(16)])
    if shape == "f824f0f":
        conn.execute(
            sa.insert(md.tables["outbox_marker"]).values(topic="kyc.events", partition=0, offset=41, event_id=EVENT_ID)
        )


@backends
@services
@pytest.mark.parametrize("shape", ["f824f0f", "7de848f", "14b31d7"])
def test_database_made_by_the_old_0001_reaches_head(service: str, shape: str, new_database: Callable[[], str]) -> None:
    url = new_database()
    on(url, lambda conn: _old_0001(shape, conn))
    command.stamp(migrations.alembic_config(service, url), "0001")
    on(url, _platform_rows)
    if service in ("kyc", "traceability"):
        migrations.upgrade(service, url, "0002")
        on(url, lambda conn: _service_rows(service, conn))
    migrations.upgrade(service, url, BEFORE_BUS[service])
    # The old failure: at what used to be head, the tables added since the first commit were missing.
    assert {"outbox_epoch", "dead_letter"}.isdisjoint(table_names(url))
    assert schema_diff(url, models(service)) != []

    migrations.upgrade(service, url)
    assert current_revision(url) == head(service)
    assert "outbox_marker" not in table_names(url)
    assert schema_diff(url, models(service)) == []
    _assert_rows_kept(service, url)
    _new_tables_work(url)
    migrations.downgrade(service, url, "base")
    assert table_names(url) == set()
