"""The four services under faults: a mixed workload through the KYC and incidents APIs while a seeded random
schedule kills -9 and restarts every service's worker (relay + consumer), the two APIs written to and the broker,
and takes the consumers' databases away; afterwards every consumer has every event once, every read model equals
its source, each automatic incident has one opening or update per firing. Then a consumer group reset to offset 0
replays everything into the same state.

FAULT_SEED picks the schedule (printed with the figures, so a failure can be replayed); FAULT_SECONDS its length."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from libs.common.events import REGISTRY
from tests.faults import system_figures
from tests.faults.system_writes import SystemWriter
from tests.faults.test_fault_injection import fault_schedule, run_schedule, start_like_a_supervisor
from tests.support.processes import Databases, wait_until
from tests.support.system import SERVICES, System, handled_types

SEED = int(os.environ.get("FAULT_SEED", "20261202"))
SECONDS = float(os.environ.get("FAULT_SECONDS", "45"))
ACTORS, SITES = 12, 6
BASELINE_TIMEOUT = 120.0
CONVERGENCE_TIMEOUT = 240.0
LENGTHS = {
    "kyc-worker": (0.3, 5.0),
    "incidents-worker": (0.3, 5.0),
    "traceability-worker": (0.3, 5.0),
    "scoring-worker": (0.3, 5.0),
    "kyc-api": (0.3, 3.0),
    "incidents-api": (0.3, 3.0),
    "broker": (0.5, 8.0),
    "traceability-db": (2.0, 6.0),
    "scoring-db": (2.0, 6.0),
}
APIS = ("kyc", "incidents")  # the two written to; traceability's and scoring's APIs play no part here


@pytest.fixture
async def system(postgres_admin_url: str, tmp_path: Path) -> AsyncIterator[System]:
    databases = Databases(postgres_admin_url, services=SERVICES)
    await databases.create()
    await system_figures.install_audit(databases)
    system = System(tmp_path, databases, apis=APIS, extra_env={"SCORING_RISK_RECOMPUTE_SECONDS": "100000"})
    try:
        yield system
    finally:
        await system.close()
        print(f"\nprocess logs: {tmp_path}")


async def baseline(system: System) -> tuple[SystemWriter, list[str], list[str]]:
    """Every process started, actors approved and sites registered through the APIs, everything applied."""
    await system.start()
    writer = SystemWriter(system)
    actors = await writer.kyc.approved_actors(ACTORS)
    sites = await writer.sites(actors[:SITES])
    result = await system_figures.converge(
        system, writer.writes, timeout=BASELINE_TIMEOUT, kyc_writes=writer.kyc.writes.acknowledged
    )
    assert result is not None and result.kept, "baseline, before any fault: " + report(result, system, writer, "-")
    return writer, actors, sites


def report(result: system_figures.SystemFigures | None, system: System, writer: SystemWriter, seed: object) -> str:
    if result is None:
        return "no figures could be measured\n" + system.logs()
    writes = system_figures.Writes(
        acknowledged=writer.writes.acknowledged + writer.kyc.writes.acknowledged,
        unacknowledged=writer.writes.unacknowledged + Counter(kyc=writer.kyc.writes.unacknowledged),
        refused=writer.writes.refused + writer.kyc.writes.refused,
    )  # a copy: the report is printed more than once
    return f"{result.line(seed, writes)}\n{result.details()}\n{system.logs(lines=15)}"


def assert_kept(
    result: system_figures.SystemFigures | None, system: System, writer: SystemWriter, seed: object
) -> None:
    message = report(result, system, writer, seed)
    print("\n" + message.splitlines()[0])
    assert result is not None and result.kept, message


@pytest.mark.timeout(int(SECONDS) + 900)
async def test_every_service_applies_every_committed_event_once_under_random_kills_and_outages(system):
    began = time.monotonic()
    writer, actors, sites = await baseline(system)
    ready = time.monotonic()
    faults = fault_schedule(random.Random(SEED), SECONDS, LENGTHS)
    print(f"\nFAULT_SEED={SEED} FAULT_SECONDS={SECONDS:.0f}: {len(faults)} faults\n" + "\n".join(map(str, faults)))
    stop, restarts = asyncio.Event(), []
    streams = [
        asyncio.create_task(writer.kyc.stream(actors, stop, rng=random.Random(SEED + 1), pause=0.1)),
        asyncio.create_task(writer.site_stream(sites, stop, random.Random(SEED + 2))),
        asyncio.create_task(writer.incident_stream(sites, actors, stop, random.Random(SEED + 3))),
    ]

    await run_schedule(system, faults, restarts)
    stop.set()
    await asyncio.gather(*streams)
    faulted = time.monotonic()
    crashed = system.dead()
    for name in system.processes:
        await start_like_a_supervisor(system, name, restarts)
    result = await system_figures.converge(
        system, writer.writes, timeout=CONVERGENCE_TIMEOUT, kyc_writes=writer.kyc.writes.acknowledged
    )
    converged = time.monotonic()

    print(f"crashed by themselves: {crashed or 'none'}; restarts that failed: {restarts or 'none'}")
    print(
        f"SYSTEM FAULT TIMES baseline={ready - began:.1f}s faulting={faulted - ready:.1f}s "
        f"convergence={converged - faulted:.1f}s total={converged - began:.1f}s"
    )
    assert_kept(result, system, writer, SEED)
    moves = writer.kyc.writes.acknowledged["suspend"] + writer.kyc.writes.acknowledged["reinstate"]
    assert moves > 0 and writer.writes.acknowledged["inspect"] > SITES and writer.writes.acknowledged["report"] > 0, (
        f"too few writes acknowledged while faulting: kyc={dict(writer.kyc.writes.acknowledged)} "
        f"others={dict(writer.writes.acknowledged)}"
    )


async def reset_group(bootstrap: str, group: str, topics: list[str], *, timeout: float = 90.0) -> int:
    """Commit offset 0 on every partition of `topics` for `group`, as its only member (the worker is stopped): join
    the group, wait for the assignment of every partition, commit, leave."""
    probe = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await probe.start()
    try:
        probe.subscribe(topics)
        deadline = time.monotonic() + timeout
        while True:
            await probe.getmany(timeout_ms=500, max_records=1)  # drives the join; records are not looked at
            wanted = {TopicPartition(t, p) for t in topics for p in probe.partitions_for_topic(t) or ()}
            if wanted and probe.assignment() == wanted:
                break
            assert time.monotonic() < deadline, f"{group}: assigned {probe.assignment()} of {wanted}"
        await probe.commit({tp: OffsetAndMetadata(0, "") for tp in wanted})
        return len(wanted)
    finally:
        await probe.stop()


async def committed_at_end(bootstrap: str, group: str, topics: list[str]) -> bool:
    """The group's committed offset of every partition is at its end (a consumer that never joins the group reads
    them: Tansu does not answer the admin client's offset listing)."""
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await probe.start()
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(probe.partitions_for_topic(t) or ())]
        ends = await probe.end_offsets(partitions)
        for tp in partitions:
            committed = await probe.committed(tp)
            if ends[tp] > 0 and (committed is None or committed < ends[tp]):
                return False
        return True
    finally:
        await probe.stop()


@pytest.mark.timeout(900)
@pytest.mark.parametrize("consumer", ["scoring", "traceability"])
async def test_a_consumer_group_reset_to_offset_0_replays_into_the_same_state(system, consumer):
    writer, actors, sites = await baseline(system)
    stop = asyncio.Event()
    streams = [
        asyncio.create_task(writer.kyc.stream(actors, stop, rng=random.Random(SEED + 1), pause=0.1)),
        asyncio.create_task(writer.site_stream(sites, stop, random.Random(SEED + 2))),
        asyncio.create_task(writer.incident_stream(sites, actors, stop, random.Random(SEED + 3))),
    ]
    await wait_until(
        lambda: _async(writer.writes.acknowledged["close"] >= 1 and writer.writes.acknowledged["inspect"] >= 12),
        timeout=120,
        what="a workload of incidents and inspections",
    )
    stop.set()
    await asyncio.gather(*streams)
    first = await system_figures.converge(
        system, writer.writes, timeout=CONVERGENCE_TIMEOUT, kyc_writes=writer.kyc.writes.acknowledged
    )
    assert_kept(first, system, writer, "before-reset")
    inbox = await system.inbox(consumer)
    state = await _read_models(system.databases, consumer)

    system.services[f"{consumer}-worker"].stop()  # SIGTERM: it leaves the group, so the reset joins at once
    topics = sorted({_topic(t) for t in handled_types(consumer)})
    began = time.monotonic()
    partitions = await reset_group(system.broker.bootstrap, consumer, topics)
    await system.start(f"{consumer}-worker")
    await wait_until(
        lambda: committed_at_end(system.broker.bootstrap, consumer, topics),
        timeout=120,
        what=f"{consumer} has consumed its topics again from offset 0",
        diagnostics=lambda: system.logs(f"{consumer}-worker"),
    )
    replayed = time.monotonic() - began
    reread = await consumed(system.worker_ports[consumer], consumer)
    assert reread >= len(inbox), (
        f"the restarted {consumer} worker read {reread} events, fewer than the {len(inbox)} applied"
    )
    again = await system_figures.converge(
        system, writer.writes, timeout=CONVERGENCE_TIMEOUT, kyc_writes=writer.kyc.writes.acknowledged
    )
    print(
        f"\nGROUP RESET {consumer}: {partitions} partitions of {topics}: {reread} events read again in "
        f"{replayed:.1f}s, {len(inbox)} in the inbox"
    )
    assert_kept(again, system, writer, f"after-reset-{consumer}")
    assert await system.inbox(consumer) == inbox
    assert await _read_models(system.databases, consumer) == state


async def consumed(port: int, consumer: str) -> float:
    """The worker's own count of events read from its topics since it started (its /metrics)."""
    async with httpx.AsyncClient(timeout=5.0) as http:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    prefix = f'assay_events_consumed_total{{consumer="{consumer}",result="applied"}}'
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix))


def _topic(event_type: str) -> str:
    return REGISTRY[event_type].topic


async def _read_models(databases: Databases, consumer: str) -> dict[str, list[tuple[object, ...]]]:
    tables = system_figures.AUDITED[consumer]
    conn = await databases.connect(consumer)
    try:
        out = {}
        for table in tables:
            rows = await conn.fetch(f"SELECT * FROM {table}")
            out[table] = sorted(tuple(v for k, v in r.items() if k != "updated_at") for r in rows)
        return out
    finally:
        await conn.close()


async def _async(value: bool) -> bool:
    return value
