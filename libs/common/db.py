"""Async engines and sessions for PostgreSQL (asyncpg) and SQLite (aiosqlite); one request, one transaction."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Request
from pydantic_core import from_json, to_json
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry, NullPool, PoolProxiedConnection
from sqlalchemy.util import await_

from libs.common.settings import ServiceSettings


def json_text(value: Any) -> str:
    """What JSON columns are written as: pydantic-core's encoder, the same JSON as json.dumps without its spaces
    (and with UTF-8 rather than \\u escapes), a quarter of its CPU; a registration writes eight such values."""
    return to_json(value).decode()


# Every engine's JSON codecs, pydantic-core's both ways: JSON columns are decoded on every read (json.loads was 10 %
# of a list's CPU) and encoded on every write (json_text).
JSON_CODECS: dict[str, Any] = {"json_serializer": json_text, "json_deserializer": from_json}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite hands back naive values)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: sa.Dialect, coltype: object) -> Callable[[Any], datetime | None] | None:
        # asyncpg hands timestamptz back in UTC already: returned as it is, without TypeDecorator's wrapper around
        # process_result_value (0.41 against 0.15 µs a value; five a row, a list of 20 is 100 of them). Elsewhere
        # (SQLite: text parsed by the dialect's own processor first) TypeDecorator's chain as it is.
        if dialect.name != "postgresql" or self.impl_instance.result_processor(dialect, coltype) is not None:
            return super().result_processor(dialect, coltype)

        def process(value: datetime | None) -> datetime | None:
            return value if value is None or value.tzinfo is UTC else self.process_result_value(value, dialect)

        return process


def normalize_url(url: str) -> str:
    """Accept plain postgresql:// and sqlite:// URLs and pick the async drivers we ship."""
    for plain, async_ in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql+psycopg://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return async_ + url[len(plain) :]
    return url


def is_sqlite(url_or_engine: str | AsyncEngine) -> bool:
    url = url_or_engine if isinstance(url_or_engine, str) else str(url_or_engine.url)
    return url.startswith("sqlite")


def make_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 0, pool_timeout: float = 30.0, ping_idle_seconds: float = 10.0
) -> AsyncEngine:
    """An engine on `url`. PostgreSQL: a fixed pool of `pool_size` connections (plus `max_overflow` under a burst),
    reused most recently used first, pinged before use only after `ping_idle_seconds` idle."""
    url = normalize_url(url)
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **JSON_CODECS)
        _sqlite_immediate_transactions(engine)
        return engine
    engine = create_async_engine(
        url,
        poolclass=FairQueuePool,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_use_lifo=True,
        **JSON_CODECS,
    )
    _ping_after_idle(engine, ping_idle_seconds)
    _json_decoded_from_bytes(engine)
    return engine


def _json_decoded_from_bytes(engine: AsyncEngine) -> None:
    """A `json` column's value is decoded by pydantic-core from the driver's bytes: SQLAlchemy's codec for asyncpg
    makes them a str first, in a function of its own around the parser, once per JSON value of every row read."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:  # Any: SQLAlchemy's asyncpg adapter
        dbapi_connection.run_async(_json_codec)


async def _json_codec(connection: Any) -> None:
    # After SQLAlchemy's own codec (its listener was the engine's first): the same encoding, the same values.
    await connection.set_type_codec("json", encoder=str.encode, decoder=from_json, schema="pg_catalog", format="binary")


def engine_for(settings: ServiceSettings) -> AsyncEngine:
    """The engine of a service process, sized by its settings (DB_POOL_SIZE, DB_POOL_OVERFLOW, ...)."""
    return make_engine(
        settings.database_url.get_secret_value(),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        ping_idle_seconds=settings.db_ping_idle_seconds,
    )


class FairQueuePool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio pool, handing connections out in the order they were asked for. Its queue lets a request
    that just arrived take the connection returned for a waiter it woke, which then queues again at the back: with
    64 requests on 10 connections, p99 was 50 times p50 (1.1 s against 22 ms) for the same throughput. A FIFO
    semaphore of the pool's capacity, taken before the queue and given back after it, keeps the line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unbounded = self._max_overflow == -1
        self._turns = None if unbounded else asyncio.Semaphore(self.size() + self._max_overflow)

    def _do_get(self) -> ConnectionPoolEntry:
        if self._turns is None:
            return super()._do_get()
        try:
            await_(_acquire_within(self._turns, self._timeout))
        except TimeoutError as exc:
            raise sa.exc.TimeoutError(
                f"no database connection free within {self._timeout:g} s (pool of "
                f"{self.size()}, overflow {self._max_overflow}); see DB_POOL_SIZE"
            ) from exc
        try:
            return super()._do_get()
        except BaseException:
            self._turns.release()
            raise

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        try:
            super()._do_return_conn(record)
        finally:
            if self._turns is not None:
                self._turns.release()


async def _acquire_within(turns: asyncio.Semaphore, seconds: float) -> None:
    """A turn within `seconds` (TimeoutError else). A free turn is taken at once; a wait arms a timer, not the task
    per request asyncio.wait_for makes, which was a tenth of a read's CPU with 64 requests on 10 connections."""
    if not turns.locked():
        await turns.acquire()
        return
    async with asyncio.timeout(seconds):
        await turns.acquire()


_CHECKED_IN_AT = "assay_checked_in_at"


def _ping_after_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """pool_pre_ping, but only for a connection that sat idle: pinging every checkout was a round trip per request
    (a quarter of a read's CPU), while a connection in steady use proves itself alive. A dead one found by the ping
    is replaced before use; one that died since its last use fails that request, and SQLAlchemy then discards every
    older connection of the pool at once (its optimistic disconnect handling)."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _checkin(_dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(
        dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        checked_in_at = record.info.pop(_CHECKED_IN_AT, None)
        if checked_in_at is None or time.monotonic() - checked_in_at < idle_seconds:
            return  # just opened, or in use a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure of the ping means this connection is gone
            raise sa.exc.DisconnectionError("idle connection failed its ping") from exc
        if not alive:
            raise sa.exc.DisconnectionError("idle connection failed its ping")


def _sqlite_immediate_transactions(engine: AsyncEngine) -> None:
    # SQLite upgrades a read lock to a write lock mid-transaction and fails instead of waiting;
    # BEGIN IMMEDIATE takes the write lock up front so concurrent writers queue on busy_timeout.
    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:  # Any: aiosqlite's adapter, not PEP 249
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        # Readers (read_only_sessions) take no write lock: WAL lets them run beside the one writer.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


# What a repository function executes on: a request's write session, or a read connection (GET routes).
Executor = AsyncSession | AsyncConnection


def dialect_of(db: Executor) -> str:
    """Which SQL ("postgresql" or "sqlite") a statement built for this session or connection must speak."""
    if isinstance(db, AsyncConnection):
        return db.dialect.name
    assert db.bind is not None, "sessions are made bound to their engine"
    return db.bind.dialect.name


def insert(dialect: str, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """INSERT with ON CONFLICT support for the dialect at hand (PostgreSQL or SQLite)."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


async def upsert(db: Executor, table: sa.Table, values: dict[str, object], *, keys: list[str]) -> None:
    """Insert `values`, or update the row with the same `keys` to them."""
    await db.execute(_upsert_statement(dialect_of(db), table, tuple(values), tuple(keys)), values)


@lru_cache(maxsize=256)
def _upsert_statement(dialect: str, table: sa.Table, columns: tuple[str, ...], keys: tuple[str, ...]) -> sa.Executable:
    # Built once per table and set of columns, with bound parameters: building it on each call (its `excluded`
    # columns above all) was a tenth of a registration's CPU.
    statement = insert(dialect, table).values({name: sa.bindparam(name) for name in columns})
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: statement.excluded[name] for name in columns if name not in keys}
    )


# --- bulk writes straight through the driver -----------------------------------------------------------------


async def copy_rows(
    db: Executor, table: sa.Table, rows: list[dict[str, Any]], *, upsert_keys: tuple[str, ...] = ()
) -> None:
    """Insert many rows of the same columns; with `upsert_keys`, a row whose keys exist replaces that row's other
    columns. On PostgreSQL by binary COPY (into a temporary table first for an upsert), in the caller's transaction:
    SQLAlchemy's per-row parameter processing of an executemany was most of a bulk write's CPU. Elsewhere the same
    statement as an executemany."""
    if not rows:
        return
    columns = tuple(rows[0])
    if dialect_of(db) != "postgresql":
        statement: Any = sa.insert(table)
        if upsert_keys:
            statement = _upsert_statement(dialect_of(db), table, columns, upsert_keys)
        await db.execute(statement, rows)
        return
    connection = db if isinstance(db, AsyncConnection) else await db.connection()
    processors = [table.c[name].type._cached_bind_processor(connection.dialect) for name in columns]
    records = [
        tuple(
            value if process is None else process(value)
            for value, process in zip(row.values(), processors, strict=True)
        )
        for row in rows
    ]
    raw: Any = await _driver_in_transaction(connection)
    try:
        if not upsert_keys:
            await raw.copy_records_to_table(table.name, records=records, columns=list(columns))
            return
        staging, names = f'"_copy_{table.name}"', ", ".join(f'"{c}"' for c in columns)
        keys = ", ".join(f'"{c}"' for c in upsert_keys)
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in upsert_keys)
        await raw.execute(f'CREATE TEMPORARY TABLE IF NOT EXISTS {staging} (LIKE "{table.name}") ON COMMIT DELETE ROWS')
        await raw.copy_records_to_table(staging.strip('"'), records=records, columns=list(columns))
        await raw.execute(
            f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM {staging} '
            f"ON CONFLICT ({keys}) DO UPDATE SET {updates}"
        )
        await raw.execute(f"TRUNCATE {staging}")
    except Exception as exc:
        if not _server_error(exc):  # the connection itself failed: the pool must not hand it out again
            await connection.invalidate(exc)
        raise


# --- reads straight through the driver ------------------------------------------------------------------------


class DriverRow:
    """A row read by `read_rows` on the driver: by name (`row.id`, `row._mapping`) and by position (`row[0]`), as
    the rows SQLAlchemy hands back are used."""

    __slots__ = ("_mapping",)

    def __init__(self, mapping: dict[str, Any]) -> None:
        self._mapping = mapping

    def __getitem__(self, index: int) -> Any:
        return tuple(self._mapping.values())[index]

    def __len__(self) -> int:
        return len(self._mapping)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._mapping.values())

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class _DriverPlan:
    sql: str
    parameters: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]  # name, fixed value or _REQUIRED, processor
    keys: tuple[str, ...]
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]


_REQUIRED: Any = object()


@lru_cache(maxsize=512)  # by the statement object: only statements built once (bound parameters) should come here
def _driver_plan(statement: Any, dialect: sa.Dialect) -> _DriverPlan | None:
    compiled: Any = statement.compile(dialect=dialect)
    binds = compiled.binds
    if (
        compiled.positiontup is None
        or compiled.escaped_bind_names
        or compiled.literal_execute_params
        or compiled.post_compile_params
        or any(bind.expanding for bind in binds.values())
    ):
        return None  # what only SQLAlchemy's execution knows how to render: leave it to SQLAlchemy
    processors = compiled._bind_processors
    parameters = []
    for name in compiled.positiontup:
        bind = binds[name]
        fixed = _REQUIRED if bind.required or bind.callable is not None else bind.effective_value
        parameters.append((name, fixed, processors.get(name)))
    keys, results = [], []
    for key, _name, _objects, type_ in compiled._result_columns:
        keys.append(key)
        try:
            processor = type_._cached_result_processor(dialect, None)
        except (TypeError, sa.exc.InvalidRequestError):
            return None  # a type whose processing depends on the column's driver type (Numeric, Float): SQLAlchemy
        if processor is not None:
            results.append((key, processor))
    if len(set(keys)) < len(keys):
        return None  # two columns of one name: a row by name would lose one
    return _DriverPlan(compiled.string, tuple(parameters), tuple(keys), tuple(results))


async def read_rows(db: Executor, statement: sa.Select[Any], params: Mapping[str, Any] | None = None) -> list[Any]:
    """The rows of a SELECT built once (bound parameters), as `(await db.execute(statement, params)).all()` gives
    them. On a PostgreSQL read connection (DbRead) the statement, compiled once, runs on asyncpg itself with
    SQLAlchemy's type processing applied: SQLAlchemy's execution around the driver (execution context, result
    metadata, row objects) was most of a read's database CPU. Anything else runs through SQLAlchemy."""
    if not isinstance(db, AsyncConnection) or db.dialect.name != "postgresql":
        return list((await db.execute(statement, params)).all())
    return await _driver_rows(db, statement, params)


async def write_rows(db: Executor, statement: Any, params: Mapping[str, Any] | None = None) -> list[Any]:
    """`read_rows` inside a write transaction, for any statement built once (SELECT ... FOR UPDATE, INSERT,
    UPDATE ... RETURNING): its rows, or [] for a statement that returns none. It does not autoflush: ORM objects
    pending in the session are not written first, so use it only where none of them matters to the statement."""
    if dialect_of(db) != "postgresql":
        result: Any = await db.execute(statement, params)
        return list(result.all()) if result.returns_rows else []
    connection = db if isinstance(db, AsyncConnection) else await db.connection()
    await _driver_in_transaction(connection)
    return await _driver_rows(connection, statement, params)


async def run_sql(db: Executor, sql: str) -> None:
    """Statements without parameters (several, `;`-separated, in one round trip on PostgreSQL: SAVEPOINT,
    RELEASE SAVEPOINT, ...) in the caller's transaction, on the driver; elsewhere through SQLAlchemy, one by one."""
    if dialect_of(db) != "postgresql":
        for statement in filter(None, (part.strip() for part in sql.split(";"))):
            await db.execute(sa.text(statement))
        return
    connection = db if isinstance(db, AsyncConnection) else await db.connection()
    raw: Any = await _driver_in_transaction(connection)
    try:
        await raw.execute(sql)
    except Exception as exc:
        if not _server_error(exc):
            await connection.invalidate(exc)
        raise


async def fetch_sql(db: Executor, sql: str, *args: Any) -> list[Any]:
    """PostgreSQL only: one statement of the driver's own SQL ($1, $2, ... with values as asyncpg takes them), in
    the caller's transaction; its records. For a statement SQLAlchemy cannot build once (a multi-row INSERT over
    unnest'ed arrays in data-modifying CTEs); asyncpg prepares it once per connection."""
    connection = db if isinstance(db, AsyncConnection) else await db.connection()
    raw: Any = await _driver_in_transaction(connection)
    try:
        return list(await raw.fetch(sql, *args))
    except Exception as exc:
        if not _server_error(exc):
            await connection.invalidate(exc)
        raise


async def _driver_in_transaction(connection: AsyncConnection) -> Any:
    """The driver's connection under `connection`, in the transaction SQLAlchemy began on it. SQLAlchemy's asyncpg
    adapter sends BEGIN only with the first statement it executes, so a statement sent straight to the driver
    first would commit on its own: the adapter is asked to begin, as its first statement would (this was a
    `SELECT 1` first, a round trip of its own)."""
    raw: Any = await _driver_of(connection)
    if raw.is_in_transaction():
        return raw
    adapted: Any = connection.sync_connection.connection.dbapi_connection if connection.sync_connection else None
    mutex, start = getattr(adapted, "_execute_mutex", None), getattr(adapted, "_start_transaction", None)
    if mutex is None or start is None or not hasattr(adapted, "_transaction"):
        await connection.execute(sa.text("SELECT 1"))  # an adapter of another shape: its first statement begins
        return raw
    async with mutex:
        if adapted._transaction is None:
            await start()  # nothing in AUTOCOMMIT, where each statement is its own transaction anyway
    return raw


async def _driver_rows(db: AsyncConnection, statement: Any, params: Mapping[str, Any] | None) -> list[Any]:
    plan = _driver_plan(statement, db.dialect)
    if plan is None:
        result: Any = await db.execute(statement, params)
        return list(result.all()) if result.returns_rows else []
    given = params or {}
    args = []
    for name, fixed, processor in plan.parameters:
        value = given[name] if fixed is _REQUIRED or name in given else fixed
        args.append(processor(value) if processor is not None else value)
    driver = await _driver_of(db)
    try:
        records = await driver.fetch(plan.sql, *args)
    except Exception as exc:
        if not _server_error(exc):  # the connection itself failed: the pool must not hand it out again
            await db.invalidate(exc)
        raise
    rows = []
    keys, processors = plan.keys, plan.processors
    for record in records:
        mapping = dict(zip(keys, record.values(), strict=True))
        for key, process in processors:
            mapping[key] = process(mapping[key])
        rows.append(DriverRow(mapping))
    return rows


async def _driver_of(db: AsyncConnection) -> Any:
    """The driver's (asyncpg's) connection under `db`. One in use is taken as it is, without the greenlet round
    `get_raw_connection` makes (a tenth of a by-id read's CPU under cProfile); a closed or invalidated one goes
    through SQLAlchemy, which reconnects it or raises."""
    sync = db.sync_connection
    if sync is not None and not sync.closed and not sync.invalidated:
        return sync.connection.driver_connection
    return (await db.get_raw_connection()).driver_connection


def _server_error(exc: Exception) -> bool:
    """An error the server answered (asyncpg's PostgresError carries its SQLSTATE): the connection is fine."""
    return isinstance(getattr(exc, "sqlstate", None), str)


READ_ONLY = "assay_read_only"


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class StatementPool:
    """The connections DbRead and DbStatement hand out on PostgreSQL: AUTOCOMMIT SQLAlchemy connections kept open
    between requests and handed out first come, first served. Checking a connection out of SQLAlchemy's pool and
    back in (its events, the isolation level set and reset, a greenlet round each way) was 175 µs of CPU, a third
    of a by-id read's. At most `size` connections (DB_STATEMENT_POOL_SIZE), opened as requests need them, besides
    the engine's own pool, which transactions keep. A connection idle for `ping_idle_seconds` is pinged before it
    is handed out (a dead one is replaced); one that failed, was invalidated, or served a request that ended by an
    exception (a cancelled query) is closed, not handed out again, and every connection idle since is pinged before
    its next use (a server restart kills them all at once: one failed request, not one per connection)."""

    def __init__(self, engine: AsyncEngine, *, size: int, timeout: float, ping_idle_seconds: float) -> None:
        # An engine of its own, on the same database: these connections are not the engine's pool's, which
        # transactions keep; NullPool, since this class is the pool (closing one closes it).
        self._engine = create_async_engine(engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT", **JSON_CODECS)
        _json_decoded_from_bytes(self._engine)
        self.size, self.timeout, self._ping_idle = size, timeout, ping_idle_seconds
        self._idle: list[tuple[AsyncConnection, float]] = []  # most recently returned last, with when
        self._waiters: deque[asyncio.Future[AsyncConnection | None]] = deque()
        self._open = 0  # connections opened and not closed: idle, in use, or being opened
        # Idle since before the last failure: pinged before use (a server restart kills them all at once).
        self._suspect_before = 0.0
        self._closed = False

    @property
    def opened(self) -> int:
        return self._open

    async def acquire(self) -> AsyncConnection:
        if self._closed:
            raise RuntimeError("the statement pool is closed")
        if self._idle and not self._waiters:
            connection, since = self._idle.pop()
            if time.monotonic() - since < self._ping_idle and since > self._suspect_before:
                return connection
            return await self._alive(connection)
        if self._open < self.size:
            return await self._connect()
        waiter: asyncio.Future[AsyncConnection | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self.timeout):
                given = await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():  # handed one as it timed out or was cancelled: pass it on
                self._hand_on(waiter.result())
            else:
                waiter.cancel()
                self._waiters.remove(waiter)  # no stale waiter stays in line (an idle connection goes to none)
            if isinstance(exc, TimeoutError):
                raise sa.exc.TimeoutError(
                    f"no database connection free within {self.timeout:g} s (statement pool of {self.size}); "
                    "see DB_STATEMENT_POOL_SIZE"
                ) from exc
            raise
        return given if given is not None else await self._connect()

    async def release(self, connection: AsyncConnection, *, failed: bool = False) -> None:
        """Back into the pool, or closed when it failed, was invalidated, or the pool is closed."""
        healthy = not (failed or self._closed or connection.closed or connection.invalidated)
        if healthy and connection.in_transaction():
            try:
                await connection.rollback()  # SQLAlchemy's autobegun transaction; nothing at the server in AUTOCOMMIT
            except Exception:
                healthy = False
        if not healthy:
            self._suspect_before = time.monotonic()
            await self._discard(connection)
            self._hand_on(None)
            return
        self._hand_on(connection)

    @property
    def closed(self) -> bool:
        return self._closed

    def close_now(self) -> None:
        """close() for a synchronous caller (the engine's dispose event): idle connections are terminated."""
        self._closed = True
        idle, self._idle = self._idle, []
        for connection, _since in idle:
            self._open -= 1
            sync = connection.sync_connection
            try:
                if sync is not None:
                    sync.invalidate()  # SQLAlchemy terminates the driver's connection, in or outside a greenlet
            except Exception:
                pass
        self._fail_waiters()

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection, _since in idle:
            await self._discard(connection)
        self._fail_waiters()
        await self._engine.dispose()

    def _fail_waiters(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(RuntimeError("the statement pool is closed"))
        self._waiters.clear()

    def _hand_on(self, connection: AsyncConnection | None) -> None:
        """To the first waiter still waiting (None: a place for it to open one), else back to the idle list."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        if connection is not None:
            self._idle.append((connection, time.monotonic()))

    async def _connect(self) -> AsyncConnection:
        self._open += 1
        try:
            return await self._engine.connect()
        except BaseException:
            self._open -= 1
            self._hand_on(None)  # a waiter may try in its place
            raise

    async def _alive(self, connection: AsyncConnection) -> AsyncConnection:
        try:
            await (await _driver_of(connection)).fetchval("SELECT 1")
            return connection
        except Exception:
            await self._discard(connection)
            return await self._connect()

    async def _discard(self, connection: AsyncConnection) -> None:
        self._open -= 1
        try:
            await connection.invalidate()  # the server side may be gone: do not wait on a goodbye
            await connection.close()
        except Exception:
            pass


class _EnginePool:
    """StatementPool's interface on an engine's own pool: SQLite, where a connection is cheap to check out."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def acquire(self) -> AsyncConnection:
        return await self._engine.connect()

    async def release(self, connection: AsyncConnection, *, failed: bool = False) -> None:
        await connection.close()

    async def close(self) -> None:
        return None


ConnectionPool = StatementPool | _EnginePool


def read_pool(engine: AsyncEngine, statements: ConnectionPool) -> ConnectionPool:
    """Where DbRead takes its connections: the statement pool on PostgreSQL (AUTOCOMMIT serves both), the engine's
    read-only copy on SQLite (a deferred transaction, which takes no write lock)."""
    return statements if isinstance(statements, StatementPool) else _EnginePool(read_engine(engine))


_STATEMENT_POOLS: weakref.WeakKeyDictionary[sa.Engine, StatementPool] = weakref.WeakKeyDictionary()


def statement_pool(
    engine: AsyncEngine, *, size: int = 10, timeout: float = 30.0, ping_idle_seconds: float = 10.0
) -> ConnectionPool:
    """The engine's statement pool, one per engine (apps made on one engine, as tests make them, share it; the first
    one's sizes hold), closed at the latest when the engine is disposed of."""
    if engine.dialect.name != "postgresql":
        return _EnginePool(statement_engine(engine))
    pool = _STATEMENT_POOLS.get(engine.sync_engine)
    if pool is None or pool.closed:
        pool = _STATEMENT_POOLS[engine.sync_engine] = StatementPool(
            engine, size=size, timeout=timeout, ping_idle_seconds=ping_idle_seconds
        )
        if not event.contains(engine.sync_engine, "engine_disposed", _close_statement_pool):
            event.listen(engine.sync_engine, "engine_disposed", _close_statement_pool)
    return pool


def _close_statement_pool(engine: sa.Engine) -> None:
    # Synchronous, as SQLAlchemy's events are; AsyncEngine.dispose runs it where a connection can still be closed.
    pool = _STATEMENT_POOLS.pop(engine, None)
    if pool is not None:
        pool.close_now()


def read_engine(engine: AsyncEngine) -> AsyncEngine:
    """The engine as GET routes use it. PostgreSQL: AUTOCOMMIT, so a read is its statement alone and not BEGIN,
    statement, ROLLBACK (three round trips, and a third of a read's CPU with the session around it); a read that
    must see one snapshot says so in one statement. SQLite: a deferred transaction, which takes no write lock."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT", **{READ_ONLY: True})
    return engine.execution_options(**{READ_ONLY: True})


async def _transaction(request: Request) -> AsyncIterator[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    async with sessions() as db, db.begin():
        yield db


# The scope's list of the connections a request took (DbRead, DbStatement) with their pools; service.PlatformMiddleware
# gives them back once the request is answered (DbRead was a `yield` dependency, and FastAPI's exit stack around one
# cost a tenth of a read's CPU).
READ_CONNECTIONS = _READ_CONNECTIONS = "assay.read_connections"
Taken = list[tuple[ConnectionPool, AsyncConnection]]


async def _take(request: Request, pool_name: str) -> AsyncConnection:
    taken: Taken | None = request.scope.get(_READ_CONNECTIONS)
    if taken is None:
        raise RuntimeError("DbRead and DbStatement need libs.common.service.PlatformMiddleware (create_app adds it)")
    state = request.app.state
    pool: ConnectionPool | None = getattr(state, pool_name, None)
    if pool is None:  # an app not built by service.create_app: its pools as create_app makes them
        state.statement_pool = statement_pool(state.engine)
        state.read_pool = read_pool(state.engine, state.statement_pool)
        pool = getattr(state, pool_name)
    connection = await pool.acquire()
    taken.append((pool, connection))
    return connection


async def _read(request: Request) -> AsyncConnection:
    # A Core connection, not an ORM session: reads map rows to domain objects themselves, and the session's
    # bookkeeping was a quarter of a read's CPU.
    return await _take(request, "read_pool")


def statement_engine(engine: AsyncEngine) -> AsyncEngine:
    """The engine as DbStatement uses it. PostgreSQL: AUTOCOMMIT, so a write that is one statement is its own
    transaction: not BEGIN, statement, COMMIT. SQLite: as it is; a write of several statements begins and commits
    a transaction itself (SQLite writes no rows in a WITH clause)."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


async def _statement(request: Request) -> AsyncConnection:
    return await _take(request, "statement_pool")


# scope="function": the commit happens before the response is sent, so a failed commit is never a 200.
DbTransaction = Annotated[AsyncSession, Depends(_transaction, scope="function")]
# For GET routes: no write transaction, no write lock; closed by service.PlatformMiddleware once it is answered.
DbRead = Annotated[AsyncConnection, Depends(_read)]
# For a write that is one statement (its rows and its outbox rows in one INSERT ... WITH ...): on PostgreSQL the
# statement commits on its own, without BEGIN and COMMIT (two of a registration's three round trips) nor the
# session and its `yield` dependency around them; elsewhere the caller begins and commits. Nothing else may be
# written on it: a second statement would be a transaction of its own. Closed by PlatformMiddleware.
DbStatement = Annotated[AsyncConnection, Depends(_statement)]
