"""Real OS processes for fault tests: the broker, the KYC API, the KYC and traceability workers, killed -9 and
restarted, and PostgreSQL databases that refuse connections for a while."""

from __future__ import annotations

import asyncio
import atexit
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import asyncpg
import httpx

from libs.common import migrations
from libs.common.devservers import TansuBroker, free_port
from tests.support import servers
from tests.support.stack import TEST_JWT_SECRET

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("kyc", "traceability")
START_TIMEOUT = 30.0


class Killable(Protocol):
    name: str

    @property
    def alive(self) -> bool: ...

    async def start(self) -> None: ...

    def kill(self) -> None: ...

    def tail(self, lines: int = 40) -> str: ...


async def wait_until(
    check: Callable[[], Awaitable[Any]],
    *,
    timeout: float,
    what: str,
    interval: float = 0.2,
    diagnostics: Callable[[], str] = lambda: "",
) -> Any:
    """Poll `check` until it returns something truthy; an exception from it counts as "not yet"."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = await check()
        except Exception as exc:  # a database or process that is still down: keep polling until the deadline
            last = exc
        else:
            if last:
                return last
        await asyncio.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout:.0f}s (last: {last!r})\n{diagnostics()}")


def tail_of(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"--- {path.name}: no log yet"
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - 200 * lines))
        text = handle.read().decode(errors="replace").splitlines()[-lines:]
    return f"--- last {len(text)} lines of {path}:\n" + "\n".join(text)


class ServiceProcess:
    """`python -m services.<service> api|worker` in its own session, so kill -9 takes its whole process group."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str],
        log_path: Path,
        health_url: str | None = None,
        started_line: str | None = None,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        self.name, self.argv, self.env, self.log_path = name, argv, env, log_path
        self.start_timeout = start_timeout
        self.health_url, self.started_line = health_url, started_line
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def start(self) -> None:
        assert not self.alive, f"{self.name} is already running"
        self.starts += 1
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            log.write(f"=== harness: start #{self.starts} of {self.name} ===\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + self.start_timeout
        while not await self._ready(offset):
            if not self.alive:
                code = self.process.returncode if self.process else None
                raise AssertionError(f"{self.name} exited with {code} while starting\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} not ready within {self.start_timeout:.0f}s\n{self.tail()}")
            await asyncio.sleep(0.1)

    async def _ready(self, offset: int) -> bool:
        if self.health_url:
            try:
                async with httpx.AsyncClient(timeout=1.0) as http:
                    if (await http.get(self.health_url)).status_code == 200:
                        return True
            except httpx.HTTPError:
                pass
        # A worker without its health port yet says so in its log.
        return bool(self.started_line) and self.started_line in self.log_since(offset)

    def kill(self) -> None:
        """kill -9 of the whole process group: no shutdown hook, no flush, no goodbye."""
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.alive:
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, offset: int) -> str:
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode(errors="replace")

    def tail(self, lines: int = 40) -> str:
        return tail_of(self.log_path, lines)


class BrokerProcess:
    """The in-memory Tansu broker; a restart comes back on the same port and has forgotten everything."""

    name = "broker"

    def __init__(self, *, port: int, log_path: Path) -> None:
        self.broker = TansuBroker(port=port, log_path=log_path)
        self.log_path = log_path
        self.starts = 0

    @property
    def bootstrap(self) -> str:
        return self.broker.bootstrap

    @property
    def alive(self) -> bool:
        return self.broker.process is not None and self.broker.process.poll() is None

    async def start(self) -> None:
        assert not self.alive, "the broker is already running"
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"=== harness: start #{self.starts} of the broker ===\n".encode())
        await asyncio.to_thread(self.broker.start)

    def kill(self) -> None:
        process = self.broker.process
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.broker.stop(kill=True)  # reaps the process

    stop = kill

    def tail(self, lines: int = 40) -> str:
        return tail_of(self.log_path, lines)


class Databases:
    """A fresh PostgreSQL database per service for one test, and the admin connection that takes them down."""

    def __init__(self, admin_url: str, *, services: Iterable[str] = SERVICES) -> None:
        self.admin_url = admin_url
        tag = f"{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.names = {s: f"assay_fault_{s}_{tag}" for s in services}
        self.refusing: set[str] = set()

    def url(self, service: str) -> str:
        return servers.with_database(self.admin_url, self.names[service])

    async def create(self) -> None:
        await servers.create_databases(self.admin_url, list(self.names.values()))
        for service in self.names:
            await asyncio.to_thread(migrations.upgrade, service, self.url(service))

    async def drop(self) -> None:
        for service in list(self.refusing):
            await self.allow_connections(service)
        await servers.drop_databases(self.admin_url, list(self.names.values()))

    async def refuse_connections(self, service: str) -> None:
        """A database outage: new connections are refused and every open one is cut."""
        name = self.names[service]
        self.refusing.add(service)
        await self._admin(
            f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
        )

    async def allow_connections(self, service: str) -> None:
        await self._admin(f'ALTER DATABASE "{self.names[service]}" ALLOW_CONNECTIONS true')
        self.refusing.discard(service)

    @asynccontextmanager
    async def outage(self, service: str) -> AsyncIterator[None]:
        await self.refuse_connections(service)
        try:
            yield
        finally:
            await self.allow_connections(service)

    async def connect(self, service: str) -> asyncpg.Connection:
        return await asyncpg.connect(self.url(service), timeout=5)

    async def _admin(self, *statements: str) -> None:
        conn = await asyncpg.connect(self.admin_url.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()


class Platform:
    """The broker, the KYC API, the KYC worker (its relay publishes kyc.events) and the traceability worker (its
    consumer feeds known_actor), each a real process with its log under `folder`."""

    def __init__(self, folder: Path, databases: Databases, *, extra_env: dict[str, str] | None = None) -> None:
        self.folder, self.databases = folder, databases
        self.broker = BrokerProcess(port=free_port(), log_path=folder / "broker.log")
        self.api_port = free_port()
        self.worker_ports = {s: free_port() for s in SERVICES}
        env = self._env(extra_env or {})
        python = sys.executable
        self.kyc_api = ServiceProcess(
            "kyc-api",
            [python, "-m", "services.kyc", "api", "--port", str(self.api_port)],
            env=env,
            log_path=folder / "kyc-api.log",
            health_url=f"{self.api_url}/health",
        )
        self.kyc_worker = ServiceProcess(
            "kyc-worker",
            [python, "-m", "services.kyc", "worker"],
            env=env,
            log_path=folder / "kyc-worker.log",
            health_url=self.worker_health_url("kyc"),
            started_line="worker started",
        )
        self.traceability_worker = ServiceProcess(
            "traceability-worker",
            [python, "-m", "services.traceability", "worker"],
            env=env,
            log_path=folder / "traceability-worker.log",
            health_url=self.worker_health_url("traceability"),
            started_line="worker started",
        )
        self.cleanups: list[Callable[[], Awaitable[None]]] = []  # e.g. HTTP clients of the test, closed at the end
        atexit.register(self.stop_all)  # they run in their own sessions: Ctrl-C on pytest would not reach them

    async def close(self) -> None:
        self.stop_all()
        for cleanup in self.cleanups:
            await cleanup()
        await self.databases.drop()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def worker_health_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.worker_ports[service]}/health"

    def _env(self, extra: dict[str, str]) -> dict[str, str]:
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("KYC_", "TRACEABILITY_", "KAFKA_", "RELAY_", "CONSUMER_", "S3_"))
        }
        return {
            **inherited,
            "PYTHONUNBUFFERED": "1",
            "KYC_DATABASE_URL": self.databases.url("kyc"),
            "TRACEABILITY_DATABASE_URL": self.databases.url("traceability"),
            "KAFKA_BOOTSTRAP_SERVERS": self.broker.bootstrap,
            "KAFKA_BROKER_FORGETS": "true",
            "JWT_SECRET": TEST_JWT_SECRET,
            "KYC_WORKER_PORT": str(self.worker_ports["kyc"]),
            "TRACEABILITY_WORKER_PORT": str(self.worker_ports["traceability"]),
            "RELAY_IDLE_SECONDS": "0.01",
            # Approval waits for screening, which the KYC worker runs: keep set-up short.
            "KYC_SCREENING_INTERVAL_SECONDS": "0.5",
            "SCHEDULER_INTERVAL_SECONDS": "0.5",
            "STORAGE_DIR": str(self.folder / "objects"),
            "S3_ENDPOINT": "",
            "LOG_LEVEL": "INFO",
            **extra,
        }

    @property
    def processes(self) -> dict[str, Killable]:
        return {
            "broker": self.broker,
            "kyc-api": self.kyc_api,
            "kyc-worker": self.kyc_worker,
            "traceability-worker": self.traceability_worker,
        }

    async def start(self, *names: str) -> None:
        """Start the named processes (all by default) that are not running, broker first."""
        for name, process in self.processes.items():
            if (not names or name in names) and not process.alive:
                await process.start()

    def kill(self, name: str) -> None:
        self.processes[name].kill()

    async def restart_broker(self, *, after: float) -> None:
        """kill -9, `after` seconds of no broker (the outage's length, by design), then a fresh empty broker."""
        self.broker.kill()
        await asyncio.sleep(after)
        await self.broker.start()

    def stop_all(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.kill()

    def dead(self) -> list[str]:
        """Processes that exited although nobody killed them (a crash)."""
        return [
            name
            for name, p in self.processes.items()
            if isinstance(p, ServiceProcess) and p.process is not None and p.process.poll() is not None
        ]

    def logs(self, *names: str, lines: int = 30) -> str:
        chosen = [p for n, p in self.processes.items() if not names or n in names]
        return "\n".join(p.tail(lines) for p in chosen)
