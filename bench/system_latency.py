"""Issue 14, end to end: the time from a KYC suspension to traceability refusing custody to that actor, over real
processes on PostgreSQL (tests/support/processes.py): the Tansu broker, the KYC API and worker (its relay
publishes kyc.events), the traceability worker (its consumer feeds known_actor) and the traceability API.

Set-up: approved actors through the KYC API (four eyes: alice submits, bob approves; screening by the KYC worker),
a green site announced to traceability, a lot created by one approved holder. Each sample: bob suspends a fresh
approved actor through the KYC API (the clock starts before the request), then every `--poll` seconds the
traceability API is asked for the actor's read model (GET /known-actors/{id}); once it shows `suspended`, a
transfer of the holder's lot to the actor is sent, and the clock stops when it is refused (409
actor_not_approved). N samples at rest, then N with a background of
~`--rates` events/s: valid ActorSuspended / ActorReinstated events of 8,000 other actors (each moving suspended →
approved → suspended, its version rising), staged in KYC's outbox by plain INSERTs, 10 per transaction, by 16
writers in a separate process; they flow through the same relay, broker and consumers as the measured suspensions.
The scoring and incidents workers run too (`--consumers`), as every consumer group of kyc.events. Printed per
loaded phase: the rate staged and the records/s each consumer group committed, the lag of the relay and of each
group (records behind: at the first sample, at most, at the last), and the CPU per background event of every
process. The processes run with the shipped relay and scheduler settings.

Figures on a busy machine are noisy: the machine is shared."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.support import CpuMeter, PostgresBackends, Versions, percentile, processes, suspension
from bench.system_http import green_site
from libs.common import outbox
from libs.common.auth import issue_token
from libs.common.db import make_engine, utcnow
from libs.common.devservers import free_port
from libs.common.events.base import new_event_id
from libs.common.events.kyc import ActorReinstated, ActorSuspended
from libs.common.settings import ServiceSettings
from libs.common.tables import OutboxMessageRow
from tests.faults.kyc_writes import ORG, KycWriter
from tests.support import servers
from tests.support.processes import Databases, Platform, ServiceProcess
from tests.support.stack import TEST_JWT_SECRET

PER_TX = 10  # events per background transaction, as bench.bus writes them
WRITERS = 16  # one connection each, 10 events per commit: 8 reached only ~500 events/s on a busy machine
ACTORS_PER_WRITER = 500
SAMPLE_TIMEOUT = 20.0
TEST_TUNING = ("RELAY_IDLE_SECONDS", "SCHEDULER_INTERVAL_SECONDS")  # KYC screening stays fast: set-up only
KYC_TOPIC = "kyc.events"
CONSUMERS = ("traceability", "scoring", "incidents")  # every consumer group of kyc.events


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)  # suspend request sent → transfer refused
    acks: list[float] = field(default_factory=list)  # the suspend request's own time
    timeouts: int = 0
    accepted: int = 0  # transfers accepted after the read model said suspended: must stay 0
    staged_rate: float | None = None
    applied_rates: dict[str, float] = field(default_factory=dict)  # records/s each consumer group committed
    lags: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # records behind: at start, max, at end
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per process over the window
    wall: float = 0.0
    staged: int = 0  # background events staged in the window


# --- background load: a separate process staging KYC events in KYC's outbox at a steady rate ------------------


def background(url: str, rate: float, stop: Any, staged: Any) -> None:
    asyncio.run(_background(url, rate, stop, staged))


class Staging:
    """One writer's actors, each moving suspended → reinstated → suspended ... with its version rising, as KYC
    writes them: valid ActorSuspended / ActorReinstated events (the actor's whole state), staged as outbox rows by
    a plain INSERT in transactions of PER_TX (what outbox.add stages, without building ORM objects)."""

    def __init__(self, database_url: str) -> None:
        self.engine = make_engine(database_url, pool_size=1)
        self.actors = [uuid4() for _ in range(ACTORS_PER_WRITER)]
        self.versions = Versions()
        self.staged = 0

    def row(self, actor: UUID) -> dict[str, Any]:
        version = self.versions.next(actor)
        event: ActorSuspended | ActorReinstated
        if version % 2:
            event = suspension(actor, version, reason="background: licence documents missing", org_id=ORG)
        else:
            state = suspension(actor, version, org_id=ORG).actor.model_copy(update={"kyc_status": "approved"})
            event = ActorReinstated(
                org_id=ORG, aggregate_version=version, actor_id=actor, actor=state, reinstated_by="bob", reason="ok"
            )
        key = str(actor)
        return dict(
            event_id=new_event_id(),
            topic=event.topic,
            key=key,
            event_type=event.event_type(),
            payload=event.model_dump_json(),
            bucket=outbox.bucket_of(key),
            occurred_at=utcnow(),
        )

    async def stage(self, count: int) -> None:
        rows = [self.row(self.actors[(self.staged + i) % ACTORS_PER_WRITER]) for i in range(count)]
        async with self.engine.begin() as conn:
            await conn.execute(sa.insert(OutboxMessageRow.__table__), rows)
        self.staged += count

    async def close(self) -> None:
        await self.engine.dispose()


async def _background(url: str, rate: float, stop: Any, staged: Any) -> None:
    """WRITERS concurrent writers, each its own actors and connection, each staging PER_TX events per transaction
    at rate / WRITERS."""
    writers = [Staging(url) for _ in range(WRITERS)]

    async def paced(writer: Staging) -> None:
        every = PER_TX * WRITERS / rate
        next_at = time.monotonic()
        while not stop.is_set():
            await writer.stage(PER_TX)
            staged.value = sum(w.staged for w in writers)
            next_at += every
            delay = next_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)  # pacing the writer, not waiting for a condition
            elif delay < -1.0:
                next_at = time.monotonic()  # fell behind by a second: do not burst to catch up

    try:
        await asyncio.gather(*(paced(w) for w in writers))
    finally:
        for writer in writers:
            await writer.close()


# --- the platform -----------------------------------------------------------------------------------------------


class System:
    """Platform's broker, KYC API and worker and traceability worker, plus the traceability API and the scoring and
    incidents workers (the other consumers of kyc.events), on databases of their own."""

    def __init__(self, folder: Path, databases: Databases, consumers: tuple[str, ...]) -> None:
        ports = {service: free_port() for service in ("scoring", "incidents") if service in consumers}
        extra = {"LOG_LEVEL": "WARNING"}
        for service, port in ports.items():
            extra[f"{service.upper()}_DATABASE_URL"] = databases.url(service)
            extra[f"{service.upper()}_WORKER_PORT"] = str(port)
        self.platform = Platform(folder, databases, extra_env=extra)
        for process in (self.platform.kyc_api, self.platform.kyc_worker, self.platform.traceability_worker):
            for name in TEST_TUNING:  # the shipped defaults, not the tests' faster polling
                process.env.pop(name, None)
        env = self.platform.traceability_worker.env
        self.workers = [
            ServiceProcess(
                f"{service}-worker",
                [sys.executable, "-m", f"services.{service}", "worker"],
                env=env,
                log_path=folder / f"{service}-worker.log",
                health_url=f"http://127.0.0.1:{ports[service]}/health",
                started_line="worker started",
                start_timeout=120,
            )
            for service in ports
        ]
        port = free_port()
        self.traceability_url = f"http://127.0.0.1:{port}"
        self.traceability_api = ServiceProcess(
            "traceability-api",
            [sys.executable, "-m", "services.traceability", "api", "--port", str(port)],
            env=env,
            log_path=folder / "traceability-api.log",
            health_url=f"{self.traceability_url}/health",
        )
        settings = ServiceSettings(jwt_secret=TEST_JWT_SECRET)
        token = issue_token(settings, user_id="carol", org_id=ORG, org_kind="operator", roles=["admin"])
        self.trace = httpx.AsyncClient(
            base_url=self.traceability_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    async def start(self) -> None:
        await self.platform.start()
        for process in (self.traceability_api, *self.workers):
            await process.start()

    async def close(self) -> None:
        await self.trace.aclose()
        for process in (self.traceability_api, *self.workers):
            process.stop()
        await self.platform.close()

    def pids(self) -> dict[str, int | None]:
        named: dict[str, int | None] = {"broker": self.platform.broker.broker.process.pid}  # type: ignore[union-attr]
        for process in (*self.platform.processes.values(), self.traceability_api, *self.workers):
            if isinstance(process, ServiceProcess) and process.process is not None:
                named[process.name] = process.process.pid
        return named

    async def status(self, actor: str) -> str | None:
        answer = await self.trace.get(f"/known-actors/{actor}")
        return answer.json()["kyc_status"] if answer.status_code == 200 else None

    async def wait_status(self, actors: list[str], status: str, *, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        pending = set(actors)
        while pending:
            pending = {a for a in pending if await self.status(a) != status}
            if time.monotonic() > deadline:
                raise SystemExit(f"{len(pending)} actors not {status} in traceability after {timeout:.0f}s")
            await asyncio.sleep(0.1)

    async def lot_of(self, holder: str) -> str:
        site = await green_site(self.platform.databases.url("traceability"), ORG)
        tags = {"prefix": "LAT", "first": 0, "count": 10, "site_id": str(site)}
        assert (await self.trace.post("/tag-blocks", json=tags)).status_code == 201
        body = {"tag": "LAT0", "mineral": "tin", "hs_code": "2609", "form": "ore", "mass": 25.0, "unit": "KGM"}
        answer = await self.trace.post("/lots", json={**body, "site_id": str(site), "producer_actor_id": holder})
        if answer.status_code != 201:
            raise SystemExit(f"creating the holder's lot: {answer.status_code} {answer.text}")
        return str(answer.json()["lot_id"])


class Offsets:
    """kyc.events as the broker holds it: records published, and records each consumer group has committed."""

    def __init__(self, bootstrap: str, groups: tuple[str, ...]) -> None:
        self.bootstrap, self.groups = bootstrap, groups
        self.admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
        self.reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self.partitions: list[TopicPartition] = []

    async def start(self) -> None:
        await self.admin.start()
        await self.reader.start()
        await self.reader.topics()
        found = self.reader.partitions_for_topic(KYC_TOPIC) or set()
        self.partitions = [TopicPartition(KYC_TOPIC, p) for p in sorted(found)]

    async def close(self) -> None:
        await self.reader.stop()
        await self.admin.close()

    async def published(self) -> int:
        return sum((await self.reader.end_offsets(self.partitions)).values())

    async def committed(self) -> dict[str, int]:
        done = {}
        for group in self.groups:
            offsets = await self.admin.list_consumer_group_offsets(group, partitions=self.partitions)
            done[group] = sum(max(0, o.offset) for tp, o in offsets.items() if tp.topic == KYC_TOPIC)
        return done

    async def lags(self) -> dict[str, int]:
        """Records behind, per stage: the relay (staged in KYC's outbox, not yet published) is added by the caller."""
        published, committed = await self.published(), await self.committed()
        return {group: max(0, published - done) for group, done in committed.items()}


async def sample(
    system: System, kyc: KycWriter, actor: str, holder: str, lot: str, poll: float, timeout: float, phase: Phase
) -> None:
    started = time.perf_counter()
    if not await kyc.move(actor, "suspend", reason="licence documents missing at the last site visit"):
        raise SystemExit(f"suspending {actor} was not acknowledged: {kyc.writes}")
    phase.acks.append(time.perf_counter() - started)
    transfer = {"from_actor_id": holder, "to_actor_id": actor}
    while time.perf_counter() - started < timeout:
        if await system.status(actor) == "suspended":
            answer = await system.trace.post(f"/lots/{lot}/transfers", json=transfer)
            if answer.status_code == 409 and answer.json().get("code") == "actor_not_approved":
                phase.latencies.append(time.perf_counter() - started)
                return
            phase.accepted += 1
            raise SystemExit(f"a transfer to suspended {actor} was answered {answer.status_code} {answer.text}")
        await asyncio.sleep(poll)
    phase.timeouts += 1


async def measure_phase(
    system: System, kyc: KycWriter, actors: list[str], holder: str, lot: str, args: argparse.Namespace, phase: Phase
) -> None:
    for actor in actors:
        await sample(system, kyc, actor, holder, lot, args.poll, args.sample_timeout, phase)
        await asyncio.sleep(args.gap)  # samples spaced out, so one's tail does not start the next


async def outbox_rows(databases: Databases) -> tuple[int, int]:
    """KYC's outbox: rows staged, and rows not yet published."""
    conn = await databases.connect("kyc")
    try:
        row = await conn.fetchrow("SELECT count(*), count(*) FILTER (WHERE published_at IS NULL) FROM outbox_message")
    finally:
        await conn.close()
    return int(row[0]), int(row[1])


async def lags(databases: Databases, offsets: Offsets) -> dict[str, int]:
    _, pending = await outbox_rows(databases)
    return {"kyc relay": pending, **await offsets.lags()}


async def watch(databases: Databases, offsets: Offsets, phase: Phase, stop: asyncio.Event) -> None:
    """Every second, each stage's lag; the maximum seen is kept."""
    while not stop.is_set():
        for stage, behind in (await lags(databases, offsets)).items():
            start, most, _ = phase.lags.get(stage, (behind, behind, behind))
            phase.lags[stage] = (start, max(most, behind), behind)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def loaded_phase(
    system: System,
    kyc: KycWriter,
    actors: list[str],
    holder: str,
    lot: str,
    args: argparse.Namespace,
    rate: float,
    offsets: Offsets,
) -> Phase:
    databases = system.platform.databases
    phase = Phase(f"background ~{rate:,.0f} events/s")
    context = multiprocessing.get_context("spawn")
    stop, staged = context.Event(), context.Value("q", 0)
    writer = context.Process(target=background, args=(databases.url("kyc"), rate, stop, staged))
    writer.start()
    try:
        deadline = time.monotonic() + 120  # a spawned Python imports everything again: slow on a busy machine
        while staged.value == 0 and writer.is_alive() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if staged.value == 0:
            raise SystemExit("the background writer staged nothing")
        await asyncio.sleep(args.settle)  # the background reaches its steady state before the samples
        own = processes({**system.pids(), "background writer": writer.pid})
        backends = PostgresBackends(set(databases.names.values()), lambda: own)
        meter = CpuMeter(lambda: [*own.items(), *backends()], every=1.0).start()
        window, staged_start, committed_start = time.monotonic(), staged.value, await offsets.committed()
        done = asyncio.Event()
        watcher = asyncio.create_task(watch(databases, offsets, phase, done))
        try:
            await measure_phase(system, kyc, actors, holder, lot, args, phase)
        finally:
            done.set()
            await watcher
        elapsed = time.monotonic() - window
        phase.cpu, phase.wall = meter.stop(), meter.wall
        phase.staged = staged.value - staged_start
        phase.staged_rate = phase.staged / elapsed
        committed = await offsets.committed()
        phase.applied_rates = {g: (committed[g] - committed_start[g]) / elapsed for g in committed}
    finally:
        stop.set()
        writer.join(timeout=30)
        if writer.is_alive():
            writer.kill()
    return phase


async def drained(databases: Databases, offsets: Offsets, *, timeout: float = 300.0) -> None:
    """The backlog of a loaded phase worked off by every stage before the next phase starts."""
    deadline = time.monotonic() + timeout
    while behind := {stage: n for stage, n in (await lags(databases, offsets)).items() if n > 0}:
        if time.monotonic() > deadline:
            raise SystemExit(f"still behind after {timeout:.0f}s: {behind}")
        await asyncio.sleep(0.5)


async def run(args: argparse.Namespace, admin_url: str, folder: Path) -> None:
    consumers = tuple(c for c in args.consumers.split(",") if c)
    unknown = set(consumers) - set(CONSUMERS)
    if unknown or "traceability" not in consumers:
        raise SystemExit(f"--consumers: traceability and any of {CONSUMERS[1:]}, not {sorted(unknown)}")
    databases = Databases(admin_url, services=("kyc", *consumers))
    system = System(folder, databases, consumers)
    offsets = Offsets(system.platform.broker.bootstrap, consumers)
    await databases.create()
    try:
        await system.start()
        kyc = KycWriter(system.platform.api_url)
        system.platform.cleanups.append(kyc.close)
        rates = [float(r) for r in args.rates.split(",")]
        actors = await kyc.approved_actors((1 + len(rates)) * args.samples + 1)
        holder, targets = actors[0], actors[1:]
        await system.wait_status(actors, "approved")
        lot = await system.lot_of(holder)
        await offsets.start()
        await drained(databases, offsets)
        print(f"  set up: {len(actors)} actors approved through KYC and known in traceability", flush=True)
        batches = [targets[i * args.samples : (i + 1) * args.samples] for i in range(1 + len(rates))]

        rest = Phase("at rest")
        await measure_phase(system, kyc, batches[0], holder, lot, args, rest)
        print(line(rest), flush=True)
        for rate, batch in zip(rates, batches[1:], strict=True):
            print(line(await loaded_phase(system, kyc, batch, holder, lot, args, rate, offsets)), flush=True)
            if rate != rates[-1]:
                await drained(databases, offsets)
    finally:
        await offsets.close()
        await system.close()


def line(phase: Phase) -> str:
    ms = [v * 1000 for v in phase.latencies]
    acks = [v * 1000 for v in phase.acks]
    figures = (
        f"p50 {percentile(ms, 50):7.1f} ms, p95 {percentile(ms, 95):7.1f} ms, p99 {percentile(ms, 99):7.1f} ms, max"
        f" {max(ms, default=float('nan')):7.1f} ms (n={len(ms)}, timeouts {phase.timeouts}, accepted"
        f" {phase.accepted}); the suspension's own request p50 {percentile(acks, 50):.1f} ms;"
        f" load average {os.getloadavg()[0]:.1f}"
    )
    text = f"  {phase.name:<28} {figures}"
    if phase.staged_rate is not None:
        applied = ", ".join(f"{group} {r:,.0f}" for group, r in phase.applied_rates.items())
        text += (
            f"\n    background achieved: {phase.staged_rate:,.0f} events/s staged in KYC's outbox; records/s committed"
            f" by each consumer of kyc.events: {applied}"
            "\n    lag, records behind (at the first sample / max / at the last): "
            + "; ".join(f"{stage} {a:,} / {b:,} / {c:,}" for stage, (a, b, c) in phase.lags.items())
        )
        if phase.staged:
            per_event = {k: 1000 * v / phase.staged for k, v in phase.cpu.items()}
            text += f"\n    CPU per background event ({phase.staged:,} events over {phase.wall:.0f} s):\n" + "\n".join(
                f"      {label:<36} {ms:6.3f} ms  ({100 * phase.cpu[label] / phase.wall:5.1f} % of a core)"
                for label, ms in sorted(per_event.items(), key=lambda kv: -kv[1])
                if ms >= 0.005
            )
    return text


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.system_latency", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=30, help="suspensions measured per phase")
    parser.add_argument("--rates", default="1000", help="background events/s of the loaded phases, comma-separated")
    parser.add_argument("--sample-timeout", type=float, default=SAMPLE_TIMEOUT, help="give up on a sample after")
    parser.add_argument("--poll", type=float, default=0.005, help="seconds between two reads of the read model")
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between two samples")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds of background load before sampling")
    parser.add_argument("--consumers", default=",".join(CONSUMERS), help="consumer groups of kyc.events to run")
    parser.add_argument("--keep", action="store_true", help="keep the processes' logs")
    args = parser.parse_args()
    admin_url, container = servers.find_postgres()
    if admin_url is None:
        print("system_latency needs PostgreSQL (TEST_DATABASE_URL, 127.0.0.1:5432 or Docker); skipped")
        return
    folder = Path(tempfile.mkdtemp(prefix="assay-system-latency-"))
    print(
        f"KYC suspension → traceability refuses custody: real processes on PostgreSQL and a Tansu broker, polling"
        f" every {args.poll * 1000:g} ms; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        f" (a shared machine); logs in {folder}",
        flush=True,
    )
    try:
        asyncio.run(run(args, admin_url, folder))
    finally:
        if container is not None:
            container.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
