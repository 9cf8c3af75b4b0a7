"""The whole platform as real OS processes: the broker, and each of the four services' API and worker, on fresh
PostgreSQL databases; what the season test and the system fault tests drive over HTTP and Kafka."""

from __future__ import annotations

import asyncio
import atexit
import importlib
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from libs.common.auth import issue_token
from libs.common.devservers import free_port
from libs.common.settings import ServiceSettings
from tests.support.processes import BrokerProcess, Databases, Killable, ServiceProcess
from tests.support.stack import TEST_JWT_SECRET

SERVICES = ("kyc", "incidents", "traceability", "scoring")
WORKER_STARTED = "worker started"
# Nine Python processes importing at once on a shared 2-core machine: starting one can take a while.
START_TIMEOUT = 120.0
HANDLERS_OF = {
    "kyc": "services.kyc.handlers",
    "incidents": "services.incidents.handlers",
    "traceability": "services.traceability.handlers",
    "scoring": "services.scoring.risk.handlers",
}


def handled_types(service: str) -> frozenset[str]:
    """The event types `service`'s worker consumes."""
    handlers = importlib.import_module(HANDLERS_OF[service]).HANDLERS
    return frozenset(cls.event_type() for cls in handlers)


def token(*, org: str, user: str = "alice", roles: tuple[str, ...] = ("admin",), kind: str = "operator") -> str:
    settings = ServiceSettings(jwt_secret=TEST_JWT_SECRET)
    return issue_token(settings, user_id=user, org_id=org, org_kind=kind, roles=list(roles))


class System:
    """Nine processes (broker, 4 APIs, 4 workers), each with its log under `folder`; names are `<service>-api`,
    `<service>-worker` and `broker`."""

    def __init__(
        self,
        folder: Path,
        databases: Databases,
        *,
        extra_env: dict[str, str] | None = None,
        apis: tuple[str, ...] = SERVICES,
    ) -> None:
        self.folder, self.databases = folder, databases
        self.broker = BrokerProcess(port=free_port(), log_path=folder / "broker.log")
        self.api_ports = {s: free_port() for s in apis}
        self.worker_ports = {s: free_port() for s in SERVICES}
        self.env = self._env(extra_env or {})
        self.services: dict[str, ServiceProcess] = {}
        for service in SERVICES:
            if service in apis:
                self.services[f"{service}-api"] = ServiceProcess(
                    f"{service}-api",
                    [sys.executable, "-m", f"services.{service}", "api", "--port", str(self.api_ports[service])],
                    env=self.env,
                    log_path=folder / f"{service}-api.log",
                    health_url=f"{self.api_url(service)}/health",
                    start_timeout=START_TIMEOUT,
                )
            self.services[f"{service}-worker"] = self.worker(service, self.env)
        self.cleanups: list[Callable[[], Awaitable[None]]] = []
        atexit.register(self.stop_all)

    def worker(self, service: str, env: dict[str, str], *, name: str | None = None) -> ServiceProcess:
        name = name or f"{service}-worker"
        return ServiceProcess(
            name,
            [sys.executable, "-m", f"services.{service}", "worker"],
            env=env,
            log_path=self.folder / f"{name}.log",
            health_url=f"http://127.0.0.1:{self.worker_ports[service]}/health",
            started_line=WORKER_STARTED,
            start_timeout=START_TIMEOUT,
        )

    def api_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.api_ports[service]}"

    def client(self, service: str, *, org: str, user: str = "alice", roles: tuple[str, ...] = ("admin",)) -> Any:
        http = httpx.AsyncClient(
            base_url=self.api_url(service),
            headers={"Authorization": "Bearer " + token(org=org, user=user, roles=roles)},
            timeout=httpx.Timeout(15.0, connect=3.0),
        )
        self.cleanups.append(http.aclose)
        return http

    def _env(self, extra: dict[str, str]) -> dict[str, str]:
        prefixes = tuple(f"{s.upper()}_" for s in SERVICES) + ("KAFKA_", "RELAY_", "CONSUMER_", "S3_", "JWT_")
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
        env = {
            **inherited,
            "PYTHONUNBUFFERED": "1",
            "KAFKA_BOOTSTRAP_SERVERS": self.broker.bootstrap,
            "KAFKA_BROKER_FORGETS": "true",
            "BROKER_EPOCH_CHECK_SECONDS": "1",
            "OUTAGE_BACKOFF_MAX_SECONDS": "2",
            "JWT_SECRET": TEST_JWT_SECRET,
            "RELAY_IDLE_SECONDS": "0.01",
            "RELAY_MAX_IDLE_SECONDS": "0.5",
            "CONSUMER_RETRY_BACKOFF_SECONDS": "0.05",
            "KYC_SCREENING_INTERVAL_SECONDS": "0.5",
            # Licence expiries, overdue reviews and site lapses: checked every ~0.6 s instead of hourly.
            "KYC_REGISTER_JOB_MINUTES": "0.01",
            "KYC_SITE_STATUS_JOB_MINUTES": "0.01",
            "SCHEDULER_INTERVAL_SECONDS": "0.5",
            "STORAGE_DIR": str(self.folder / "objects"),
            "S3_ENDPOINT": "",
            "LOG_LEVEL": "INFO",
        }
        for service in SERVICES:
            env[f"{service.upper()}_DATABASE_URL"] = self.databases.url(service)
            env[f"{service.upper()}_WORKER_PORT"] = str(self.worker_ports[service])
        env.update(extra)
        return env

    @property
    def processes(self) -> dict[str, Killable]:
        return {"broker": self.broker, **self.services}

    async def start(self, *names: str) -> None:
        """Start the named processes (all by default) that are not running: the broker first, the rest at once."""
        chosen = [p for n, p in self.processes.items() if (not names or n in names) and not p.alive]
        if self.broker in chosen:
            await self.broker.start()
        await asyncio.gather(*(p.start() for p in chosen if p is not self.broker))

    def kill(self, name: str) -> None:
        self.processes[name].kill()

    def stop_all(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.kill()

    def dead(self) -> list[str]:
        return [n for n, p in self.services.items() if p.process is not None and p.process.poll() is not None]

    def logs(self, *names: str, lines: int = 30) -> str:
        chosen = [p for n, p in self.processes.items() if not names or n in names]
        return "\n".join(p.tail(lines) for p in chosen)

    async def source_events(self, consumer: str) -> dict[str, str]:
        """event_id → event_type of every event in the four services' outboxes that `consumer` handles."""
        types = sorted(handled_types(consumer))
        found: dict[str, str] = {}
        for service in SERVICES:
            conn = await self.databases.connect(service)
            try:
                rows = await conn.fetch(
                    "SELECT event_id, event_type FROM outbox_message WHERE event_type = ANY($1::text[])", types
                )
            finally:
                await conn.close()
            found.update((r["event_id"], r["event_type"]) for r in rows)
        return found

    async def inbox(self, consumer: str) -> set[str]:
        conn = await self.databases.connect(consumer)
        try:
            rows = await conn.fetch("SELECT event_id FROM processed_event WHERE consumer = $1", consumer)
        finally:
            await conn.close()
        return {r["event_id"] for r in rows}

    async def caught_up(self, *consumers: str) -> bool:
        """Every event the sources committed that these consumers handle is in their inboxes, and no new one was
        committed while we looked (an effect commits with its inbox row and its own events, so this is a fixpoint
        of the flows, barring new API writes and jobs)."""
        chosen = consumers or tuple(s for s in SERVICES if handled_types(s))
        before = {c: await self.source_events(c) for c in chosen}
        for consumer in chosen:
            if set(before[consumer]) - await self.inbox(consumer):
                return False
        for consumer in chosen:
            if await self.source_events(consumer) != before[consumer]:
                return False
        return True

    async def close(self) -> None:
        self.stop_all()
        for cleanup in self.cleanups:
            await cleanup()
        await self.databases.drop()
