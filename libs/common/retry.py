"""Telling an outage from a bug, and waiting out an outage with capped backoff."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Iterator
from typing import Any

import sqlalchemy.exc as sa_exc
from aiokafka.errors import KafkaError

# SQLSTATE classes of a database that is unreachable, shutting down, out of resources or asking for a retry:
# 08 connection, 40 transaction rollback (serialisation, deadlock), 53 resources, 57 operator intervention,
# 58 system error; and 55000/55006/55P03: "not accepting connections", object in use, lock not available.
TRANSIENT_SQLSTATE_CLASSES = {"08", "40", "53", "57", "58"}
TRANSIENT_SQLSTATES = {"55000", "55006", "55P03"}


class Stopping(Exception):
    """Raised out of a wait when the process is stopping: the work in hand is abandoned, not committed."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [current.__cause__, current.__context__, getattr(current, "orig", None)]


def is_infrastructure_error(exc: BaseException) -> bool:
    """True when `exc` says a server (database, broker) is unreachable or busy: retry later, never dead-letter."""
    for error in _chain(exc):
        if isinstance(
            error,
            (
                OSError,
                asyncio.TimeoutError,
                TimeoutError,
                KafkaError,
                sa_exc.OperationalError,
                sa_exc.InterfaceError,
                sa_exc.DisconnectionError,
                sa_exc.TimeoutError,
            ),
        ):
            return True
        if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
            return True
        sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(sqlstate, str) and (
            sqlstate[:2] in TRANSIENT_SQLSTATE_CLASSES or sqlstate in TRANSIENT_SQLSTATES
        ):
            return True
        if type(error).__module__.startswith("asyncpg") and type(error).__name__ in {
            "ConnectionDoesNotExistError",
            "InterfaceError",
            "CannotConnectNowError",
            "TooManyConnectionsError",
        }:
            return True
    return False


def stray_cancellation(exc: BaseException) -> bool:
    """A CancelledError that nobody asked for: a library's internal future leaking out (aiokafka can do this when
    a broker connection dies mid-request). Treat it as the outage it comes from; a real cancellation propagates."""
    if not isinstance(exc, asyncio.CancelledError):
        return False
    task = asyncio.current_task()
    return task is None or task.cancelling() == 0


async def close_quietly(closing: Awaitable[Any]) -> None:
    """Await a client's stop/close whose server may be gone. aiokafka's consumer.stop() can raise the CancelledError
    of its own fetch task, cancelled inside stop(); that and any error mean there is nothing left to release."""
    try:
        await closing
    except (Exception, asyncio.CancelledError) as exc:
        if isinstance(exc, asyncio.CancelledError) and not stray_cancellation(exc):
            raise


class Backoff:
    """Exponential delays with jitter, capped: 0.1, 0.2, 0.4 ... `cap` seconds."""

    def __init__(self, *, first: float = 0.1, cap: float = 10.0) -> None:
        self.first, self.cap, self.failures = first, cap, 0

    def next(self) -> float:
        delay: float = min(self.cap, self.first * 2**self.failures)  # int ** int is Any to the stubs
        self.failures += 1
        return delay * random.uniform(0.8, 1.0)

    def reset(self) -> None:
        self.failures = 0


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or raise Stopping as soon as `stop` is set."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return
    raise Stopping()


async def sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, returning early (without raising) when `stop` is set."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
