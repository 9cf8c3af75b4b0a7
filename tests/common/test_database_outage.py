"""The database down or out of free connections: 503 problem+json with Retry-After and a stable code, never a 500."""

from __future__ import annotations

import importlib
from uuid import uuid4

import httpx
import pytest

from libs.common.db import StatementPool
from libs.common.devservers import free_port


def _client(app, token: str) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", headers={"Authorization": f"Bearer {token}"}
    )


def _is_unavailable(answer: httpx.Response, code: str) -> bool:
    return (
        answer.status_code == 503
        and answer.headers["content-type"] == "application/problem+json"
        and answer.json()["code"] == code
        and int(answer.headers["retry-after"]) > 0
    )


async def test_a_database_that_refuses_connections_answers_503_on_reads_and_writes(stack):
    if stack.database_urls["kyc"].startswith("sqlite"):
        pytest.skip("needs PostgreSQL: a server that can be away")
    nobody = f"postgresql://postgres@127.0.0.1:{free_port()}/kyc"  # nothing listens there
    main = importlib.import_module("services.kyc.main")
    app = main.create_app(stack.settings("kyc", database_url=nobody, db_pool_timeout_seconds=2))
    async with _client(app, stack.token()) as client:
        by_id = await client.get(f"/actors/{uuid4()}")
        page = await client.get("/actors", params={"limit": 5})
        registered = await client.post(
            "/actors", json={"actor_type": "trader", "legal_name": "Comptoir Minier", "country": "CD"}
        )
    await app.state.statement_pool.close()
    await app.state.engine.dispose()
    for answer in (by_id, page, registered):
        assert _is_unavailable(answer, "database_unavailable"), answer.text


async def test_no_free_connection_in_time_answers_503_busy_then_serves_again(stack):
    if stack.database_urls["kyc"].startswith("sqlite"):
        pytest.skip("needs PostgreSQL: SQLite routes use the engine's own connections")
    main = importlib.import_module("services.kyc.main")
    app = main.create_app(stack.settings("kyc", db_statement_pool_size=1, db_pool_timeout_seconds=0.3))
    pool = app.state.statement_pool
    assert isinstance(pool, StatementPool)
    try:
        async with _client(app, stack.token()) as client:
            held = await pool.acquire()  # the only connection, taken
            busy = await client.get(f"/actors/{uuid4()}")
            await pool.release(held)
            again = await client.get(f"/actors/{uuid4()}")
    finally:
        await pool.close()
        await app.state.engine.dispose()
    assert _is_unavailable(busy, "database_busy"), busy.text
    assert again.status_code == 404 and again.json()["code"] == "actor_not_found", again.text


async def test_a_refused_connection_to_another_service_is_not_called_a_database_outage(stack):
    """A ConnectionError from a socket of the route's own (object storage, a partner's API) is 503
    dependency_unavailable: only one raised by database code is database_unavailable."""
    import asyncio

    from fastapi import FastAPI

    from libs.common.http import install_error_handlers

    app = FastAPI()
    install_error_handlers(app)
    port = free_port()  # nothing listens there

    @app.get("/elsewhere")
    async def elsewhere() -> None:
        await asyncio.open_connection("127.0.0.1", port)

    async with _client(app, stack.token()) as client:
        answer = await client.get("/elsewhere")
    assert _is_unavailable(answer, "dependency_unavailable"), answer.text
