"""Fixtures of the system tests: real PostgreSQL, fresh databases of all four services, the processes per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.faults.conftest import postgres_admin_url  # noqa: F401 (the same requirement: real PostgreSQL, Tansu)
from tests.support.processes import Databases
from tests.support.system import SERVICES, System


@pytest.fixture
async def system(postgres_admin_url: str, tmp_path: Path) -> AsyncIterator[System]:  # noqa: F811
    """Fresh migrated databases of the four services and their processes (not started: each test starts them)."""
    databases = Databases(postgres_admin_url, services=SERVICES)
    await databases.create()
    system = System(tmp_path, databases)
    try:
        yield system
    finally:
        await system.close()
        print(f"\nprocess logs: {tmp_path}")
