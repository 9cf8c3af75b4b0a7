"""Writes through the real KYC API while a seeded random schedule kills -9 and restarts the relay (KYC worker),
the consumer (traceability worker), the API and the broker, and takes traceability's database away; afterwards
the read model must equal the source, each event applied once, nothing dead-lettered.

FAULT_SEED picks the schedule (printed, with the figures, so a failure can be replayed); FAULT_SECONDS its length
(`make soak` runs it for 300 s)."""

from __future__ import annotations

import asyncio
import os
import random
import time
from dataclasses import dataclass

import pytest

from tests.faults import figures
from tests.faults.steps import approved_platform, assert_promise_kept
from tests.support.processes import Platform
from tests.support.system import System

SEED = int(os.environ.get("FAULT_SEED", "20261201"))
SECONDS = float(os.environ.get("FAULT_SECONDS", "40"))
ACTORS, WRITERS = 24, 3
CONVERGENCE_TIMEOUT = 150.0
# How long each kind of fault lasts (seconds, drawn uniformly): processes are down, the database refuses.
LENGTHS = {
    "kyc-worker": (0.3, 5.0),
    "traceability-worker": (0.3, 5.0),
    "kyc-api": (0.3, 3.0),
    "broker": (0.5, 8.0),
    "traceability-db": (2.0, 6.0),
}
GAP = (0.3, 3.0)  # between the starts of two faults: shorter than most faults, so they overlap


@dataclass(frozen=True)
class Fault:
    at: float  # seconds after the faulting began
    target: str
    length: float

    def __str__(self) -> str:
        return f"{self.at:6.1f}s {self.target} for {self.length:.1f}s"


def fault_schedule(
    rng: random.Random, seconds: float, lengths: dict[str, tuple[float, float]] = LENGTHS
) -> list[Fault]:
    """Faults in time order; one at a time per target (a dead process is not killed again), several at once."""
    faults: list[Fault] = []
    busy_until = {target: 0.0 for target in lengths}
    at = rng.uniform(*GAP)
    while at < seconds:
        target = rng.choice(sorted(lengths))
        length = min(rng.uniform(*lengths[target]), max(0.3, seconds - at))
        if busy_until[target] <= at:
            faults.append(Fault(round(at, 2), target, round(length, 2)))
            busy_until[target] = at + length + 0.5  # up again and running a moment before the next fault
        at += rng.uniform(*GAP)
    return faults


async def inject(platform: Platform | System, fault: Fault, restarts: list[str], lock: asyncio.Lock) -> None:
    """One fault, from kill (or outage) to restart. A fault on a target that is still down or restarting waits for
    the earlier one to finish, so each process has one owner at a time."""
    async with lock:
        if fault.target.endswith("-db"):  # e.g. traceability-db: that service's database refuses connections
            async with platform.databases.outage(fault.target.removesuffix("-db")):
                await asyncio.sleep(fault.length)  # the outage's length, by design
            return
        platform.kill(fault.target)
        await asyncio.sleep(fault.length)  # how long the process stays dead, by design
        await start_like_a_supervisor(platform, fault.target, restarts)


async def start_like_a_supervisor(platform: Platform | System, name: str, restarts: list[str]) -> None:
    """Start `name`; if it exits while starting (e.g. its database is down right now), start it again, as systemd or
    Kubernetes would, and note it."""
    while True:
        try:
            await platform.start(name)
            return
        except Exception as exc:  # exited while starting, or never listened: try again
            restarts.append(f"{name}: {str(exc).splitlines()[0]}")
            platform.kill(name)
            await asyncio.sleep(1.0)  # a supervisor's restart delay


async def run_schedule(platform: Platform | System, faults: list[Fault], restarts: list[str]) -> None:
    locks = {target: asyncio.Lock() for target in {f.target for f in faults}}
    began = time.monotonic()
    running = []
    for fault in faults:
        await asyncio.sleep(max(0.0, began + fault.at - time.monotonic()))  # the schedule's clock, by design
        running.append(asyncio.create_task(inject(platform, fault, restarts, locks[fault.target])))
    await asyncio.gather(*running)


@pytest.mark.timeout(int(SECONDS) + 420)
async def test_committed_events_reach_the_read_model_once_under_random_kills_and_outages(platform):
    writer, actors = await approved_platform(platform, ACTORS)
    faults = fault_schedule(random.Random(SEED), SECONDS)
    print(f"\nFAULT_SEED={SEED} FAULT_SECONDS={SECONDS:.0f}: {len(faults)} faults\n" + "\n".join(map(str, faults)))
    stop, restarts = asyncio.Event(), []
    streams = [
        asyncio.create_task(writer.stream(actors[i::WRITERS], stop, rng=random.Random(SEED + i)))
        for i in range(WRITERS)
    ]

    await run_schedule(platform, faults, restarts)
    stop.set()
    await asyncio.gather(*streams)
    crashed = platform.dead()  # exited by themselves (nobody killed them since their last start)
    for name in platform.processes:
        await start_like_a_supervisor(platform, name, restarts)
    result = await figures.converge(platform, writer.writes, timeout=CONVERGENCE_TIMEOUT)

    print(f"crashed by themselves: {crashed or 'none'}; restarts that failed: {restarts or 'none'}")
    assert_promise_kept(result, platform, SEED)
    assert writer.writes.acknowledged["suspend"] + writer.writes.acknowledged["reinstate"] > 0, (
        "no write was acknowledged while faulting: the test exercised nothing"
    )
