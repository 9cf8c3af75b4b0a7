"""Lineage of one lot (all upstream lots and mines, and downstream for recall) at 100k lots / ~300k links and at 1M.

Lots and edges are made in PostgreSQL with generate_series (lot i is made from lots i/2, i/2-1 and i/3), then the
service's own lineage query runs on random lots. `BENCH_LINEAGE_SIZES=100000` runs the small size only. Not yet
here: custody writes/s through the API (see the traceability README section); the smelter custody view is
bench/traceability_custody_view.py."""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid

import sqlalchemy as sa

from bench.support import bench_databases, percentile
from libs.common.db import make_engine, read_engine
from services.traceability.repository import lots

ORG = "bench-org"
SIZES = [int(s) for s in os.environ.get("BENCH_LINEAGE_SIZES", "100000,1000000").split(",")]
QUERIES = 200


def lot_uuid(i: int) -> uuid.UUID:
    return uuid.UUID(bytes=i.to_bytes(16, "big"))


async def fill(engine, n: int) -> int:  # type: ignore[no-untyped-def]
    async with engine.begin() as conn:
        await conn.execute(sa.text("TRUNCATE lot, lot_input"))
        await conn.execute(
            sa.text(
                "INSERT INTO lot (lot_id, org_id, mineral, form, mass, unit, mass_kg, origin_site_ids, status,"
                " produced_at, created_at, version) SELECT lpad(to_hex(i), 32, '0')::uuid, :org, 'tin', 'ore', 1,"
                " 'KGM', 1, '[]'::json, 'active', now(), now(), 1 FROM generate_series(1, :n) i"
            ),
            {"org": ORG, "n": n},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO lot_input (lot_id, input_lot_id) SELECT DISTINCT lpad(to_hex(i), 32, '0')::uuid,"
                " lpad(to_hex(j), 32, '0')::uuid FROM generate_series(4, :n) i,"
                " LATERAL (VALUES (i / 2), (i / 2 - 1), (i / 3)) v(j) WHERE j >= 1 AND j < i"
            ),
            {"n": n},
        )
        await conn.execute(sa.text("ANALYZE lot"))
        await conn.execute(sa.text("ANALYZE lot_input"))
        return int((await conn.execute(sa.text("SELECT count(*) FROM lot_input"))).scalar_one())


async def measure(engine, n: int, direction: str) -> tuple[list[float], int]:  # type: ignore[no-untyped-def]
    rng, times, found = random.Random(n), [], 0
    async with read_engine(engine).connect() as conn:
        for _ in range(QUERIES):
            pick = rng.randint(n // 2, n) if direction == "up" else rng.randint(n // 4, n // 2)
            start = time.perf_counter()
            rows = await lots.lineage(conn, lot_uuid(pick), org_id=ORG, direction=direction)
            times.append(time.perf_counter() - start)
            found += len(rows)
    return times, found // QUERIES


async def main(url: str) -> None:
    if not url.startswith("postgresql"):
        print("needs PostgreSQL")
        return
    engine = make_engine(url, pool_size=2)
    for n in SIZES:
        start = time.perf_counter()
        links = await fill(engine, n)
        print(f"{n} lots, {links} links (made in {time.perf_counter() - start:.0f} s)", flush=True)
        for direction in ("up", "down"):
            times, mean_lots = await measure(engine, n, direction)
            ms = [t * 1000 for t in times]
            print(
                f"  lineage {direction}: p50 {percentile(ms, 50):.2f} ms, p95 {percentile(ms, 95):.2f} ms"
                f" ({mean_lots} lots on average, n={QUERIES})",
                flush=True,
            )
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(bench_databases(("traceability",))["traceability"]))
