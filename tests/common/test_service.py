"""Each service is one descriptor: the app, the command line and the database pool are built from it."""

from __future__ import annotations

import asyncio
import importlib
import os
import re
import subprocess
import sys
import time
import urllib.request
from uuid import uuid4

import psutil
import pytest
import sqlalchemy as sa

from libs.common.db import engine_for, make_engine
from libs.common.devservers import free_port
from libs.common.service import Service
from tests.support.raw_http import is_bad_request_problem, unparsable_request
from tests.support.servers import SERVICES


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_declares_its_descriptor_beside_create_app(name):
    main = importlib.import_module(f"services.{name}.main")
    service: Service = main.SERVICE

    app = main.create_app()

    assert service.name == name == service.settings().service_name
    assert service.app_factory == f"services.{name}.main:create_app"
    assert app.title == service.title
    assert {"/health", "/ready", "/metrics"} <= set(app.openapi()["paths"])


async def test_http_metrics_count_by_route_template_and_status(stack):
    client = stack.client("traceability", stack.token())

    await client.get(f"/known-actors/{uuid4()}")
    await client.get("/no-such-thing")
    metrics = (await client.get("/metrics")).text

    def count(route: str, status: str) -> float:
        for line in metrics.splitlines():
            if (
                line.startswith("assay_http_requests_total{")
                and f'route="{route}"' in line
                and f'status="{status}"' in line
                and 'service="traceability"' in line
            ):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    assert count("/known-actors/{actor_id}", "404") >= 1
    assert count("unmatched", "404") >= 1


def test_the_pool_is_sized_by_the_settings(stack):
    settings = stack.settings("traceability", db_pool_size=3, db_pool_overflow=1)
    engine = engine_for(settings)

    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite keeps no pool of this kind")
    assert (engine.pool.size(), engine.pool._max_overflow) == (3, 1)


async def test_an_idle_connection_the_server_dropped_is_replaced_before_use(stack):
    url = stack.database_urls["traceability"]
    if url.startswith("sqlite"):
        pytest.skip("needs PostgreSQL: a server that drops connections")
    engine = make_engine(url, pool_size=1, ping_idle_seconds=0.2)
    try:
        async with engine.connect() as conn:
            pid = await conn.scalar(sa.text("SELECT pg_backend_pid()"))
        async with stack.engine("traceability").connect() as admin:
            await admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await asyncio.sleep(
            0.3
        )  # idle longer than ping_idle_seconds: the next checkout pings, finds it gone, reconnects

        async with engine.connect() as conn:
            again = await conn.scalar(sa.text("SELECT pg_backend_pid()"))
    finally:
        await engine.dispose()

    assert again != pid


def test_api_workers_processes_answer_on_one_port(stack, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "API_WORKERS": "2",
        "SCORING_DATABASE_URL": stack.database_urls["scoring"],
        "SCORING_PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    with open(tmp_path / "api.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.scoring", "api"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        answered = wait_for_health(port, process)
        servers = [
            p
            for p in psutil.Process(process.pid).children(recursive=True)
            if re.search(r"multiprocessing\.spawn", " ".join(p.cmdline()))
        ]
        unreadable = [unparsable_request(port) for _ in range(4)] if answered else []  # whichever process takes it
    finally:
        process.terminate()
        process.wait(timeout=30)

    assert answered, (tmp_path / "api.log").read_text()
    assert len(servers) == 2
    for answer in unreadable:  # what uvicorn cannot parse is a problem too, not its text/plain page
        assert is_bad_request_problem(answer), answer


def wait_for_health(port: int, process: subprocess.Popen, *, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            time.sleep(0.2)
    return False


async def test_connections_are_handed_out_in_the_order_they_were_asked_for(stack):
    url = stack.database_urls["traceability"]
    if url.startswith("sqlite"):
        pytest.skip("needs PostgreSQL: SQLite engines keep no queue of connections")
    engine = make_engine(url, pool_size=1)
    order: list[str] = []

    async def use(name: str) -> None:
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
            order.append(name)

    try:
        holder = await engine.connect()
        waiter = asyncio.create_task(use("waiter"))
        await asyncio.sleep(0.2)  # the waiter is in line for the one connection
        await holder.close()
        await use("holder again")  # asks again at once, before the woken waiter has run
        await waiter
    finally:
        await engine.dispose()

    assert order == ["waiter", "holder again"]


async def test_a_request_that_finds_no_free_connection_in_time_fails_clearly(stack):
    url = stack.database_urls["traceability"]
    if url.startswith("sqlite"):
        pytest.skip("needs PostgreSQL: SQLite engines keep no queue of connections")
    engine = make_engine(url, pool_size=1, pool_timeout=0.3)
    try:
        async with engine.connect():
            with pytest.raises(sa.exc.TimeoutError, match="DB_POOL_SIZE"):
                async with engine.connect():
                    pass
        async with engine.connect() as conn:  # the failed wait gave its turn back
            assert await conn.scalar(sa.text("SELECT 1")) == 1
    finally:
        await engine.dispose()
