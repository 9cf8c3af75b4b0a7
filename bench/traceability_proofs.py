"""Proof generation and offline verification for a lot with 1,000 upstream custody events (in a log of 5,000)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from uuid import UUID, uuid4

from bench.support import bench_databases, summary_ms
from libs.common.db import make_engine, make_sessions
from services.traceability.proofs import bundle, checkpoints, verify
from services.traceability.repository import custody_log
from services.traceability.settings import TraceabilitySettings

ORG = "org-bench-proofs"
ROUNDS = 5


async def seed(sessions, *, noise: int = 4000) -> UUID:  # type: ignore[no-untyped-def]
    """250 mine lots (creation + 2 transfers each) merged by tens into 25 lots (8 transfers each), merged into one
    final lot with 24 more events: 1,000 events upstream of the final lot, interleaved with `noise` unrelated ones."""
    final = uuid4()
    async with sessions() as db, db.begin():

        async def add(kind: str, lots: list[tuple[UUID, str]]) -> None:
            content = {"mass_kg": "10", "lots": [str(lot) for lot, _ in lots]}
            await custody_log.append_event(db, org_id=ORG, event_id=uuid4(), kind=kind, content=content, lots=lots)

        for _ in range(noise):
            await add("creation", [(uuid4(), "subject")])
        merged = []
        for _ in range(25):
            sources = [uuid4() for _ in range(10)]
            for lot in sources:
                for kind in ("creation", "transfer_initiated", "transfer_confirmed"):
                    await add(kind, [(lot, "subject")])
            out = uuid4()
            await add("transformation", [*((s, "input") for s in sources), (out, "output")])
            for _ in range(8):
                await add("transfer_confirmed", [(out, "subject")])
            merged.append(out)
        await add("transformation", [*((m, "input") for m in merged), (final, "output")])
        for _ in range(24):
            await add("transfer_confirmed", [(final, "subject")])
    return final


async def run(url: str) -> None:
    settings = TraceabilitySettings(TRACEABILITY_DATABASE_URL=url)
    engine = make_engine(url, pool_size=2)
    sessions = make_sessions(engine)
    key = checkpoints.signing_key(settings)
    lot = await seed(sessions)
    generation: list[float] = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        async with sessions() as db, db.begin():
            proof = await bundle.proof_bundle(db, key, lot, org_id=ORG)
        generation.append(time.perf_counter() - started)
    checks: list[float] = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        verify.verify_bundle(proof)
        checks.append(time.perf_counter() - started)
    size = len(json.dumps(proof))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bundle.json"
        path.write_text(json.dumps(proof))
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "services.traceability.proofs", "verify", str(path)], check=True)
        cli = time.perf_counter() - started
    await engine.dispose()
    print(f"lot with {len(proof['events'])} upstream events in a log of {proof['checkpoint']['tree_size']}, "
          f"bundle {size / 1e6:.2f} MB")  # fmt: skip
    print(f"  proof generation (lineage, tree, proofs): {summary_ms(generation)}")
    print(f"  offline verification (in process): {summary_ms(checks)}")
    print(f"  offline verification (CLI, with interpreter start): {cli * 1000:.0f} ms")


if __name__ == "__main__":
    asyncio.run(run(bench_databases(("traceability",))["traceability"]))
