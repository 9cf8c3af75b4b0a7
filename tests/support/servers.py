"""Finds or starts the real servers the suite talks to: PostgreSQL, a Kafka-protocol broker, an S3 server."""

from __future__ import annotations

import asyncio
import os
import socket
import sys

SERVICES = ("kyc", "incidents", "traceability", "scoring")


def docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:  # no engine, no socket, no permission: all mean "no Docker here"
        return False


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


async def _pg_usable(url: str) -> bool:
    import asyncpg

    try:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=3)
    except Exception:  # wrong credentials or not PostgreSQL: fall through to the next option
        return False
    await conn.close()
    return True


def find_postgres() -> tuple[str | None, object | None]:
    """An admin URL of a PostgreSQL server, and a container to stop afterwards (or None)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url == "sqlite":
        return None, None
    if url:
        return url, None
    local = "postgresql://postgres@127.0.0.1:5432/postgres"
    if _port_open("127.0.0.1", 5432) and asyncio.run(_pg_usable(local)):
        return local, None
    if docker_answers():
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:16-alpine", driver=None).start()
        return container.get_connection_url(), container
    if os.environ.get("CI", "").lower() == "true":
        raise RuntimeError(
            "CI=true but no PostgreSQL was found (TEST_DATABASE_URL, 127.0.0.1:5432, Docker): "
            "under CI a missing PostgreSQL is a failure, not a fallback to SQLite"
        )
    print(
        "\nNOTICE: no PostgreSQL found (TEST_DATABASE_URL, 127.0.0.1:5432, Docker); the suite runs on SQLite instead.",
        file=sys.stderr,
    )
    return None, None


async def create_databases(admin_url: str, names: list[str]) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_databases(admin_url: str, names: list[str]) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def with_database(admin_url: str, name: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"
