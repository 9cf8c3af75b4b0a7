"""Fixtures: real PostgreSQL (or SQLite, with a notice), a real Kafka-protocol broker and a real S3 server."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator

import pytest

from libs.common import migrations
from libs.common.devservers import MotoS3, TansuBroker
from tests.support import servers
from tests.support.stack import Stack


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    admin_url, container = servers.find_postgres()
    if admin_url is None:
        folder = tmp_path_factory.mktemp("sqlite")
        urls = {s: f"sqlite+aiosqlite:///{folder / (s + '.db')}" for s in servers.SERVICES}
    else:
        names = {s: f"assay_test_{s}_{os.getpid()}" for s in servers.SERVICES}
        asyncio.run(servers.create_databases(admin_url, list(names.values())))
        urls = {s: servers.with_database(admin_url, n) for s, n in names.items()}
    for service, url in urls.items():
        migrations.upgrade(service, url)
    yield urls
    if admin_url is not None:
        asyncio.run(servers.drop_databases(admin_url, [u.rpartition("/")[2] for u in urls.values()]))
    if container is not None:
        container.stop()


@pytest.fixture
def row_locking(database_urls: dict[str, str]) -> None:
    """For tests of FOR UPDATE SKIP LOCKED between concurrent transactions: SQLite serialises writers instead, so
    such a test proves nothing there and is skipped (under CI the suite always has PostgreSQL)."""
    if not database_urls["kyc"].startswith("postgresql"):
        pytest.skip("needs PostgreSQL: row locking (SKIP LOCKED) does not exist on SQLite")


class ExternalBroker:
    """KAFKA_BOOTSTRAP_SERVERS given: a broker we cannot stop or restart (those tests skip)."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap

    def stop(self, **_: object) -> None:
        pytest.skip("the broker is external (KAFKA_BOOTSTRAP_SERVERS); it cannot be restarted by the tests")

    start = stop


@pytest.fixture(scope="session")
def session_broker() -> Iterator[TansuBroker | ExternalBroker]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield ExternalBroker(os.environ["KAFKA_BOOTSTRAP_SERVERS"])
        return
    broker = TansuBroker().start()
    yield broker
    broker.stop()


@pytest.fixture
def fresh_broker() -> Iterator[TansuBroker | ExternalBroker]:
    """A broker of this test's own, so topics hold only this test's records (Tansu starts in ~0.1 s)."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield ExternalBroker(os.environ["KAFKA_BOOTSTRAP_SERVERS"])
        return
    broker = TansuBroker().start()
    yield broker
    broker.stop()


@pytest.fixture
def broker(session_broker: TansuBroker | ExternalBroker) -> TansuBroker | ExternalBroker:
    return session_broker


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    if os.environ.get("S3_ENDPOINT"):
        yield os.environ["S3_ENDPOINT"]
        return
    if servers.docker_answers():
        from testcontainers.minio import MinioContainer

        container = MinioContainer(access_key="testing", secret_key="testing").start()
        config = container.get_config()
        yield "http://" + config["endpoint"]
        container.stop()
        return
    server = MotoS3().start()
    yield server.endpoint
    server.stop()


@pytest.fixture
async def stack(
    database_urls: dict[str, str], broker: TansuBroker | ExternalBroker, s3_endpoint: str
) -> AsyncIterator[Stack]:
    stack = Stack(database_urls, bootstrap=broker.bootstrap, s3_endpoint=s3_endpoint)
    yield stack
    await stack.close()
