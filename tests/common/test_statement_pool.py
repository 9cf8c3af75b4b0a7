"""The statement pool (libs.common.db.StatementPool): the connections GET routes and one-statement writes take on
PostgreSQL, kept open between requests, handed out in order, replaced when dead, never reused after a failure."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.db import StatementPool, make_engine, statement_pool
from libs.common.settings import ServiceSettings, statement_pool_default
from tests.support.processes import wait_until


def _postgres(stack) -> str:  # type: ignore[no-untyped-def]
    url = stack.database_urls["traceability"]
    if url.startswith("sqlite"):
        pytest.skip("needs PostgreSQL: SQLite routes use the engine's own connections")
    return url


async def _pid(connection: sa.ext.asyncio.AsyncConnection) -> int:
    return int(await connection.scalar(sa.text("SELECT pg_backend_pid()")))


async def _alive(stack, pid: int) -> bool:  # type: ignore[no-untyped-def]
    async with stack.engine("traceability").connect() as admin:
        found = await admin.scalar(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})
    return bool(found)


@pytest.fixture
async def pools(stack):  # type: ignore[no-untyped-def]
    """Make a StatementPool on an engine of its own; both are closed when the test ends."""
    made: list[tuple[StatementPool, AsyncEngine]] = []

    def make(*, size: int = 1, timeout: float = 5, ping_idle_seconds: float = 60) -> StatementPool:
        engine = make_engine(_postgres(stack), pool_size=1)
        made.append((StatementPool(engine, size=size, timeout=timeout, ping_idle_seconds=ping_idle_seconds), engine))
        return made[-1][0]

    yield make
    for pool, engine in made:
        await pool.close()
        await engine.dispose()


async def test_a_connection_is_kept_open_and_reused(stack, pools):
    pool = pools(size=2)
    first = await pool.acquire()
    pid = await _pid(first)
    await pool.release(first)  # the autobegun transaction is rolled back: nothing at the server
    again = await pool.acquire()
    assert again is first and await _pid(again) == pid
    await pool.release(again)
    assert pool.opened == 1
    await pool.close()
    assert not await _alive(stack, pid)


async def test_connections_are_handed_out_in_the_order_they_were_asked_for(stack, pools):
    pool = pools(size=1)
    order: list[str] = []

    async def use(name: str) -> None:
        connection = await pool.acquire()
        order.append(name)
        await pool.release(connection)

    holder = await pool.acquire()
    waiter = asyncio.create_task(use("waiter"))
    await wait_until(lambda: _now(len(pool._waiters) == 1), timeout=5, what="the waiter in line")
    await pool.release(holder)
    await use("holder again")  # asks again at once, before the woken waiter has run
    await waiter
    assert order == ["waiter", "holder again"]


async def test_no_free_connection_in_time_fails_clearly_and_gives_the_turn_back(stack, pools):
    pool = pools(size=1, timeout=0.3)
    holder = await pool.acquire()
    with pytest.raises(sa.exc.TimeoutError, match="DB_STATEMENT_POOL_SIZE"):
        await pool.acquire()
    await pool.release(holder)
    connection = await pool.acquire()
    assert await connection.scalar(sa.text("SELECT 1")) == 1
    await pool.release(connection)
    assert pool.opened == 1


async def test_an_idle_connection_the_server_dropped_is_replaced_before_use(stack, pools):
    pool = pools(size=1, ping_idle_seconds=0.2)
    connection = await pool.acquire()
    pid = await _pid(connection)
    await pool.release(connection)
    async with stack.engine("traceability").connect() as admin:
        await admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await asyncio.sleep(0.3)  # idle longer than ping_idle_seconds: the next acquire pings, finds it gone
    connection = await pool.acquire()
    assert await _pid(connection) != pid
    await pool.release(connection)
    assert pool.opened == 1


async def test_a_connection_that_served_a_failed_request_is_closed_not_reused(stack, pools):
    pool = pools(size=1)
    connection = await pool.acquire()
    pid = await _pid(connection)
    await pool.release(connection, failed=True)
    await wait_until(lambda: _now(pool.opened == 0), timeout=5, what="the failed connection closed")
    connection = await pool.acquire()  # its place is free again
    assert await _pid(connection) != pid
    await pool.release(connection)
    assert not await _alive(stack, pid)  # closed when it was given back failed


async def test_a_query_cut_off_by_cancellation_does_not_poison_the_pool(stack, pools):
    pool = pools(size=1)

    async def slow() -> None:
        connection = await pool.acquire()
        try:
            await connection.execute(sa.text("SELECT pg_sleep(5)"))
        except BaseException:
            await pool.release(connection, failed=True)  # as PlatformMiddleware does when a request ends by one
            raise
        await pool.release(connection)

    task = asyncio.create_task(slow())
    await wait_until(lambda: _now(pool.opened == 1), timeout=5, what="the slow query started")
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    connection = await pool.acquire()
    assert await connection.scalar(sa.text("SELECT 1")) == 1
    await pool.release(connection)


async def test_disposing_of_the_engine_closes_its_statement_pool(stack):
    engine = make_engine(_postgres(stack), pool_size=1)
    pool = statement_pool(engine, size=2)
    assert isinstance(pool, StatementPool) and statement_pool(engine) is pool  # one per engine
    connection = await pool.acquire()
    pid = await _pid(connection)
    await pool.release(connection)
    await engine.dispose()  # what the suite's apps leave behind: no lifespan ran to close the pool
    assert pool.closed
    await wait_until(lambda: _gone(stack, pid), timeout=10, what="the held connection closed")


async def test_a_read_takes_its_connection_from_the_pool_and_gives_it_back(stack):
    _postgres(stack)
    client = stack.client("kyc", stack.token())
    for _ in range(5):
        answer = await client.get("/actors", params={"limit": 1})
        assert answer.status_code == 200, answer.text
    app = client._transport.app  # type: ignore[attr-defined]
    pool = app.state.read_pool
    assert isinstance(pool, StatementPool) and pool is app.state.statement_pool
    assert pool.opened == 1 and len(pool._idle) == 1


async def _now(value: bool) -> bool:
    return value


async def _gone(stack, pid: int) -> bool:  # type: ignore[no-untyped-def]
    return not await _alive(stack, pid)


async def test_after_a_server_restart_one_request_fails_not_one_per_connection(stack, pools):
    pool = pools(size=3)
    held = [await pool.acquire() for _ in range(3)]
    pids = [await _pid(c) for c in held]
    for connection in held:
        await pool.release(connection)
    async with stack.engine("traceability").connect() as admin:  # what a restart does to every connection
        await admin.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) AS pid"), {"pids": pids}
        )
    first = await pool.acquire()  # in use a moment ago: not pinged, and its query fails
    with pytest.raises(sa.exc.DBAPIError):
        await first.execute(sa.text("SELECT 1"))
    await pool.release(first)  # invalidated by the failure: closed, and the others become suspect
    others = [await pool.acquire() for _ in range(3)]
    for connection in others:
        assert await connection.scalar(sa.text("SELECT 1")) == 1
        assert await _pid(connection) not in pids
        await pool.release(connection)


@pytest.mark.parametrize(("cores", "size"), [(None, 4), (1, 4), (2, 4), (3, 6), (5, 10), (64, 10)])
def test_default_size_is_twice_the_cores_from_4_to_10(cores: int | None, size: int, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert statement_pool_default(cores) == size
    monkeypatch.delenv("DB_STATEMENT_POOL_SIZE", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    assert ServiceSettings().db_statement_pool_size == size
    monkeypatch.setenv("DB_STATEMENT_POOL_SIZE", "17")
    assert ServiceSettings().db_statement_pool_size == 17
