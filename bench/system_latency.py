"""Issue 14, end to end: the time from a KYC suspension to traceability refusing custody to that actor, over real
processes on PostgreSQL (tests/support/processes.py): the Tansu broker, the KYC API and worker (its relay
publishes kyc.events), the traceability worker (its consumer feeds known_actor) and the traceability API.

Set-up: approved actors through the KYC API (four eyes: alice submits, bob approves; screening by the KYC worker),
a green site announced to traceability, a lot created by one approved holder. Each sample: bob suspends a fresh
approved actor through the KYC API (the clock starts before the request), then every `--poll` seconds the
traceability API is asked for the actor's read model (GET /known-actors/{id}); once it shows `suspended`, a
transfer of the holder's lot to the actor is sent, and the clock stops when it is refused (409
actor_not_approved). N samples at rest, then N with a background of ~`--rates` synthetic valid ActorSuspended
events/s (20 per transaction into KYC's outbox by 4 writers in a separate process) flowing through the same relay,
broker and consumer. The achieved background rate is printed as staged by the writers and as applied by
traceability. The processes run with the shipped relay and scheduler settings.

Figures on a busy machine are noisy: the machine is shared."""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.fault_drain import Writer, applied
from bench.support import percentile
from bench.system_http import green_site
from libs.common.auth import issue_token
from libs.common.devservers import free_port
from libs.common.settings import ServiceSettings
from tests.faults.kyc_writes import ORG, KycWriter
from tests.support import servers
from tests.support.processes import Databases, Platform, ServiceProcess
from tests.support.stack import TEST_JWT_SECRET

PER_TX = 20
WRITERS = 4
SAMPLE_TIMEOUT = 20.0
TEST_TUNING = ("RELAY_IDLE_SECONDS", "SCHEDULER_INTERVAL_SECONDS")  # KYC screening stays fast: set-up only


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)  # suspend request sent → transfer refused
    acks: list[float] = field(default_factory=list)  # the suspend request's own time
    timeouts: int = 0
    accepted: int = 0  # transfers accepted after the read model said suspended: must stay 0
    staged_rate: float | None = None
    applied_rate: float | None = None
    lag_before: int = 0  # events staged in KYC and not yet applied by traceability, when the samples start
    lag_after: int = 0


# --- background load: a separate process staging synthetic events in KYC's outbox at a steady rate -------------


def background(url: str, rate: float, stop: Any, staged: Any) -> None:
    asyncio.run(_background(url, rate, stop, staged))


async def _background(url: str, rate: float, stop: Any, staged: Any) -> None:
    """WRITERS concurrent writers (one writer alone does not reach 1,000 events/s here), each its own actors and
    connection, each staging PER_TX events per transaction at rate / WRITERS."""
    writers = [Writer(url) for _ in range(WRITERS)]

    async def paced(writer: Writer) -> None:
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
    def __init__(self, folder: Path, databases: Databases) -> None:
        self.platform = Platform(folder, databases, extra_env={"LOG_LEVEL": "WARNING"})
        for process in (self.platform.kyc_api, self.platform.kyc_worker, self.platform.traceability_worker):
            for name in TEST_TUNING:  # the shipped defaults, not the tests' faster polling
                process.env.pop(name, None)
        port = free_port()
        self.traceability_url = f"http://127.0.0.1:{port}"
        self.traceability_api = ServiceProcess(
            "traceability-api",
            [sys.executable, "-m", "services.traceability", "api", "--port", str(port)],
            env=self.platform.kyc_api.env,
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
        await self.traceability_api.start()

    async def close(self) -> None:
        await self.trace.aclose()
        self.traceability_api.stop()
        await self.platform.close()

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


async def lag(databases: Databases) -> int:
    """Events in KYC's outbox that traceability's consumer has not applied yet."""
    conn = await databases.connect("kyc")
    try:
        staged = await conn.fetchval("SELECT count(*) FROM outbox_message")
    finally:
        await conn.close()
    return int(staged) - await applied(databases)


async def loaded_phase(
    system: System, kyc: KycWriter, actors: list[str], holder: str, lot: str, args: argparse.Namespace, rate: float
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
        window, applied_start, staged_start = time.monotonic(), await applied(databases), staged.value
        phase.lag_before = await lag(databases)
        await measure_phase(system, kyc, actors, holder, lot, args, phase)
        elapsed = time.monotonic() - window
        phase.staged_rate = (staged.value - staged_start) / elapsed
        phase.applied_rate = (await applied(databases) - applied_start) / elapsed
        phase.lag_after = await lag(databases)
    finally:
        stop.set()
        writer.join(timeout=30)
        if writer.is_alive():
            writer.kill()
    return phase


async def drained(databases: Databases, baseline: int, *, timeout: float = 300.0) -> None:
    """The backlog of a loaded phase applied before the next phase starts."""
    deadline = time.monotonic() + timeout
    while await lag(databases) > baseline:
        if time.monotonic() > deadline:
            raise SystemExit(f"traceability still {await lag(databases) - baseline} events behind after {timeout:.0f}s")
        await asyncio.sleep(0.5)


async def run(args: argparse.Namespace, admin_url: str, folder: Path) -> None:
    databases = Databases(admin_url)
    await databases.create()
    system = System(folder, databases)
    try:
        await system.start()
        kyc = KycWriter(system.platform.api_url)
        system.platform.cleanups.append(kyc.close)
        rates = [float(r) for r in args.rates.split(",")]
        actors = await kyc.approved_actors((1 + len(rates)) * args.samples + 1)
        holder, targets = actors[0], actors[1:]
        await system.wait_status(actors, "approved")
        lot = await system.lot_of(holder)
        print(f"  set up: {len(actors)} actors approved through KYC and known in traceability", flush=True)
        batches = [targets[i * args.samples : (i + 1) * args.samples] for i in range(1 + len(rates))]

        rest = Phase("at rest")
        await measure_phase(system, kyc, batches[0], holder, lot, args, rest)
        print(line(rest), flush=True)
        baseline = await lag(databases)
        for rate, batch in zip(rates, batches[1:], strict=True):
            print(line(await loaded_phase(system, kyc, batch, holder, lot, args, rate)), flush=True)
            if rate != rates[-1]:
                await drained(databases, baseline)
    finally:
        await system.close()


def line(phase: Phase) -> str:
    ms = [v * 1000 for v in phase.latencies]
    acks = [v * 1000 for v in phase.acks]
    figures = (
        f"p50 {percentile(ms, 50):7.1f} ms, p99 {percentile(ms, 99):7.1f} ms, max {max(ms, default=float('nan')):7.1f}"
        f" ms (n={len(ms)}, timeouts {phase.timeouts}, accepted {phase.accepted}); the suspension's own request p50"
        f" {percentile(acks, 50):.1f} ms"
    )
    rate = ""
    if phase.staged_rate is not None:
        rate = (
            f"\n    background achieved: {phase.staged_rate:,.0f} events/s staged in KYC's outbox, "
            f"{phase.applied_rate:,.0f} events/s applied by traceability's consumer; backlog {phase.lag_before:,}"
            f" events when the samples started, {phase.lag_after:,} when they ended"
        )
    return f"  {phase.name:<28} {figures}{rate}"


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.system_latency", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=30, help="suspensions measured per phase")
    parser.add_argument("--rates", default="1000", help="background events/s of the loaded phases, comma-separated")
    parser.add_argument("--sample-timeout", type=float, default=SAMPLE_TIMEOUT, help="give up on a sample after")
    parser.add_argument("--poll", type=float, default=0.005, help="seconds between two reads of the read model")
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between two samples")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds of background load before sampling")
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
