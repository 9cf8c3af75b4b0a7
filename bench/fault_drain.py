"""Time to drain after a fault: the KYC and traceability workers as real processes on PostgreSQL and a Tansu memory
broker (tests/support/processes.py); N ActorSuspended events staged with outbox.add in KYC's database while a fault
is on, then the fault ends and we time until traceability's consumer has applied all of them.

Each fault gets fresh databases, workers and broker. First N events flow with nothing wrong (the history a broker
restart must be refilled with; it also proves the consumer group has formed), then the fault is held for
`--outage` seconds (the N events are staged at its start), then it ends and the clock runs until traceability's
inbox (processed_event rows of consumer "traceability") holds all 2N events. Faults:

  consumer  the traceability worker killed -9; restarted at the fault's end
  relay     the KYC worker killed -9; restarted at the fault's end
  broker    the broker killed -9 and restarted empty at the fault's end: the relay refills it from the outbox
            (all 2N retained events) and the consumer re-reads them, dropping the N it has applied
  database  traceability's database refusing connections (ALLOW_CONNECTIONS false, its sessions terminated);
            allowed again at the fault's end

The drain time includes the restarted process's start-up and whatever retry backoff was in progress
(OUTAGE_BACKOFF_MAX_SECONDS, 10 s by default). `lost` = events in KYC's outbox that traceability never applied;
`stale` = actors whose copy in known_actor is not at the version KYC last wrote. Nothing restarts a worker whose
loop got stuck unless `--supervise` (which restarts a worker after FAILED_CHECKS failed /health checks, as `make run`
does); a drain that does not finish prints each worker's /health, whose figures are seconds since each loop's last
beat."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID, uuid4

import httpx

from bench.support import Versions, suspension
from deploy.local import CHECK_EVERY_SECONDS, FAILED_CHECKS
from libs.common import outbox
from libs.common.db import make_engine, make_sessions
from tests.support import servers
from tests.support.processes import Databases, Platform

FAULTS = ("consumer", "relay", "broker", "database")
CONSUMER = "traceability"
WORKERS = ("kyc-worker", "traceability-worker")
PER_TX = 100
ACTORS = 500
# Platform sets test-speed values for these; the benchmark measures the shipped defaults.
TEST_TUNING = ("RELAY_IDLE_SECONDS", "KYC_SCREENING_INTERVAL_SECONDS", "SCHEDULER_INTERVAL_SECONDS")


@dataclass
class Result:
    fault: str
    events: int
    staged_seconds: float
    drain_seconds: float | None  # None: not drained within the timeout
    warmup_seconds: float
    lost: int
    stale: int
    recovered_seconds: float  # of the drain: until the fault's end was done (process ready, broker listening)
    restarts: list[str] = field(default_factory=list)  # workers the supervisor restarted during the drain
    diagnosis: list[str] = field(default_factory=list)


class Writer:
    """Stages suspensions of ACTORS actors in KYC's database, in transactions of PER_TX, versions rising per actor."""

    def __init__(self, database_url: str) -> None:
        self.engine = make_engine(database_url)
        self.sessions = make_sessions(self.engine)
        self.actors = [uuid4() for _ in range(ACTORS)]
        self.versions = Versions()
        self.staged = 0

    async def stage(self, count: int) -> float:
        started = time.monotonic()
        for start in range(0, count, PER_TX):
            async with self.sessions() as db, db.begin():
                for i in range(start, min(count, start + PER_TX)):
                    actor = self.actors[(self.staged + i) % ACTORS]
                    outbox.add(db, suspension(actor, self.versions.next(actor), reason="fault drain"), key=actor)
        self.staged += count
        return time.monotonic() - started

    async def close(self) -> None:
        await self.engine.dispose()


async def applied(databases: Databases) -> int:
    conn = await databases.connect("traceability")
    try:
        return await conn.fetchval("SELECT count(*) FROM processed_event WHERE consumer = $1", CONSUMER)
    finally:
        await conn.close()


async def health(url: str) -> tuple[int | None, str]:
    try:
        async with httpx.AsyncClient(timeout=2.0) as http:
            answer = await http.get(url)
        return answer.status_code, answer.text.strip()
    except httpx.HTTPError as exc:
        return None, repr(exc)


class Supervisor:
    """What `make run`'s launcher does for a worker: /health every CHECK_EVERY_SECONDS; after FAILED_CHECKS failures
    in a row, kill and restart it. Off unless --supervise: without it, a stuck worker shows as "not drained"."""

    def __init__(self, platform: Platform, *, enabled: bool) -> None:
        self.platform, self.enabled = platform, enabled
        self.failures: Counter[str] = Counter()
        self.restarts: list[str] = []
        self.next_check = time.monotonic() + CHECK_EVERY_SECONDS

    async def check(self) -> None:
        if not self.enabled or time.monotonic() < self.next_check:
            return
        self.next_check = time.monotonic() + CHECK_EVERY_SECONDS
        for name in WORKERS:
            status, _ = await health(self.platform.worker_health_url(name.split("-")[0]))
            self.failures[name] = 0 if status == 200 else self.failures[name] + 1
            if self.failures[name] >= FAILED_CHECKS:
                self.platform.kill(name)
                await self.platform.start(name)
                self.failures[name] = 0
                self.restarts.append(name)


async def wait_applied(
    databases: Databases, platform: Platform, target: int, *, timeout: float, supervisor: Supervisor | None = None
) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        dead = platform.dead()
        if dead:
            raise SystemExit(f"{', '.join(dead)} died by itself:\n{platform.logs(*dead)}")
        try:
            if await applied(databases) >= target:
                return time.monotonic() - started
        except Exception:  # the database may still refuse us for a moment after the outage
            pass
        if supervisor is not None:
            await supervisor.check()
        await asyncio.sleep(0.1)
    return None


async def losses(databases: Databases, writer: Writer) -> tuple[int, int]:
    kyc, trace = await databases.connect("kyc"), await databases.connect("traceability")
    try:
        sent = {r["event_id"] for r in await kyc.fetch("SELECT event_id FROM outbox_message")}
        done = {
            r["event_id"]
            for r in await trace.fetch("SELECT event_id FROM processed_event WHERE consumer = $1", CONSUMER)
        }
        copies: dict[UUID, int] = {
            r["actor_id"]: r["version"] for r in await trace.fetch("SELECT actor_id, version FROM known_actor")
        }
    finally:
        await kyc.close()
        await trace.close()
    stale = sum(1 for actor, version in writer.versions.last.items() if copies.get(UUID(actor)) != version)
    return len(sent - done), stale


async def begin(fault: str, platform: Platform, databases: Databases) -> None:
    if fault == "consumer":
        platform.kill("traceability-worker")
    elif fault == "relay":
        platform.kill("kyc-worker")
    elif fault == "broker":
        platform.broker.kill()
    elif fault == "database":
        await databases.refuse_connections("traceability")


async def end(fault: str, platform: Platform, databases: Databases) -> None:
    if fault == "consumer":
        await platform.start("traceability-worker")
    elif fault == "relay":
        await platform.start("kyc-worker")
    elif fault == "broker":
        await platform.broker.start()
    elif fault == "database":
        await databases.allow_connections("traceability")


async def run_fault(
    fault: str, *, admin_url: str, folder: Path, events: int, outage: float, timeout: float, supervise: bool
) -> Result:
    databases = Databases(admin_url)
    await databases.create()
    folder.mkdir(parents=True, exist_ok=True)
    platform = Platform(folder, databases, extra_env={"LOG_LEVEL": "INFO"})
    for process in (platform.kyc_worker, platform.traceability_worker):
        for name in TEST_TUNING:
            process.env.pop(name, None)
    writer = Writer(databases.url("kyc"))
    try:
        await platform.start("broker", "kyc-worker", "traceability-worker")
        started = time.monotonic()
        await writer.stage(events)
        if await wait_applied(databases, platform, events, timeout=timeout) is None:
            raise SystemExit(
                f"{fault}: the {events} events before the fault were not applied within {timeout:.0f}s"
                f"\n{platform.logs()}"
            )
        warmup = time.monotonic() - started
        fault_started = time.monotonic()
        await begin(fault, platform, databases)
        staged = await writer.stage(events)
        await asyncio.sleep(max(0.0, outage - (time.monotonic() - fault_started)))
        ended = time.monotonic()
        await end(fault, platform, databases)
        recovered = time.monotonic() - ended  # the restarted process answers /health, or the broker listens
        remaining = max(1.0, timeout - (time.monotonic() - ended))
        supervisor = Supervisor(platform, enabled=supervise)
        drained = await wait_applied(databases, platform, 2 * events, timeout=remaining, supervisor=supervisor)
        drain_seconds = None if drained is None else time.monotonic() - ended
        lost, stale = await losses(databases, writer)
        diagnosis = []
        if drained is None:  # what each worker says about its loops (seconds since each last beat)
            for name in WORKERS:
                status, text = await health(platform.worker_health_url(name.split("-")[0]))
                diagnosis.append(f"{name} /health {status}: {text[:300]}")
        return Result(
            fault, events, staged, drain_seconds, warmup, lost, stale, recovered, supervisor.restarts, diagnosis
        )
    finally:
        platform.stop_all()
        await writer.close()
        await databases.drop()


def line(result: Result, outage: float) -> str:
    if result.drain_seconds is None:
        drain = "NOT drained within the timeout"
        rate = "-"
    else:
        drain = (
            f"drained {result.drain_seconds:6.1f} s after the fault ended "
            f"({result.recovered_seconds:4.1f} s of it restarting)"
        )
        rate = f"{result.events / result.drain_seconds:7,.0f} events/s"
    return (
        f"{result.fault:<9} {result.events:,} events staged during a {outage:.0f}s fault "
        f"(in {result.staged_seconds:.1f}s): {drain}, {rate}, lost {result.lost}, stale {result.stale}"
        f"  [before the fault: {result.events:,} in {result.warmup_seconds:.1f}s]"
        + (f"\n          restarted for failing /health: {', '.join(result.restarts)}" if result.restarts else "")
        + "".join(f"\n          {d}" for d in result.diagnosis)
    )


async def run(args: argparse.Namespace, admin_url: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="assay-fault-drain-"))
    print(
        f"PostgreSQL, Tansu (memory) broker, KYC + traceability workers as processes"
        f"{' (supervised as by make run)' if args.supervise else ''}; logs in {folder}",
        flush=True,
    )
    for fault in args.faults:
        result = await run_fault(
            fault,
            admin_url=admin_url,
            folder=folder / fault,
            events=args.events,
            outage=args.outage,
            timeout=args.timeout,
            supervise=args.supervise,
        )
        print(line(result, args.outage), flush=True)
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5000, help="events staged during each fault")
    parser.add_argument("--outage", type=float, default=10.0, help="how long each fault lasts, in seconds")
    parser.add_argument("--timeout", type=float, default=180.0, help="give up on a drain after this long")
    parser.add_argument("--faults", nargs="+", choices=FAULTS, default=list(FAULTS))
    parser.add_argument(
        "--supervise", action="store_true", help="restart a worker whose /health keeps failing, as `make run` does"
    )
    parser.add_argument("--keep", action="store_true", help="keep the workers' logs")
    args = parser.parse_args()
    admin_url, container = servers.find_postgres()
    if admin_url is None:
        print("fault_drain needs PostgreSQL (TEST_DATABASE_URL, 127.0.0.1:5432 or Docker); skipped")
        return
    try:
        asyncio.run(run(args, admin_url))
    finally:
        if container is not None:
            container.stop()


if __name__ == "__main__":
    main()
