"""The smelter custody view of one lot (GET /lots/{id}/custody's use case, response serialised) at 100k lots.

The lineage benchmark's graph (lot i made from lots i/2, i/2-1 and i/3: ~300k links) with, per lot, a creation or
transformation event and a confirmed transfer in the custody log (~200k events, ~500k event-lot links), 200 known
actors, 50 known sites, 20 open incidents, a score per lot and one checkpoint; then the view of random late lots,
as the operator and as the smelter holding them (which adds the visibility query). Its own database
(assay_bench_traceability_custody), so it never truncates another benchmark's tables. `BENCH_CUSTODY_LOTS` and
`BENCH_CUSTODY_CALLS` change the size and the number of calls."""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid

import sqlalchemy as sa

from bench.support import percentile
from libs.common import migrations
from libs.common.auth import OrgKind, Principal
from libs.common.db import make_engine, read_engine
from services.traceability import access
from services.traceability.use_cases import custody_view
from tests.support import servers

ORG = "bench-org"
LOTS = int(os.environ.get("BENCH_CUSTODY_LOTS", "100000"))
CALLS = int(os.environ.get("BENCH_CUSTODY_CALLS", "200"))
SMELTER = uuid.UUID(int=2**64 + 7)


def hexid(expr: str, offset: int = 0) -> str:
    return f"lpad(to_hex(({expr}) + {offset}), 32, '0')::uuid"


FILL = [
    "TRUNCATE lot, lot_input, lot_holder, custody_event, custody_event_lot, known_actor, known_site, known_incident,"
    " known_score, custody_checkpoint",
    # lots: origin site i % 50, producer i % 200
    "INSERT INTO lot (lot_id, org_id, mineral, form, mass, unit, mass_kg, site_id, origin_site_ids, producer_actor_id,"
    " custodian_actor_id, status, produced_at, created_at, version) SELECT " + hexid("i") + ", :org, 'tin', 'ore', 1,"
    " 'KGM', 1, "
    + hexid("i % 50", 2**40)
    + ", json_build_array("
    + hexid("i % 50", 2**40)
    + "::text), "
    + hexid("i % 200", 2**48)
    + ", "
    + hexid("(i + 1) % 200", 2**48)
    + ", 'active', now(), now(), 1"
    " FROM generate_series(1, :n) i",
    "INSERT INTO lot_input (lot_id, input_lot_id) SELECT DISTINCT "
    + hexid("i")
    + ", "
    + hexid("j")
    + " FROM generate_series(4, :n) i, LATERAL (VALUES (i / 2), (i / 2 - 1), (i / 3)) v(j) WHERE j >= 1 AND j < i",
    # per lot: event 2i (creation below 4, else the transformation that made it), event 2i+1 a confirmed transfer
    "INSERT INTO custody_event (event_id, org_id, seq, kind, body, prev_hash, hash, recorded_at) SELECT "
    + hexid("2 * i", 2**56)
    + ", :org, 2 * i, CASE WHEN i < 4 THEN 'creation' ELSE 'transformation' END,"
    " json_build_object('actor_id', " + hexid("i % 200", 2**48) + "::text, 'mass_kg', 1, 'transformation', 'merge',"
    " 'input_mass_kg', 3, 'output_mass_kg', json_build_array(1), 'event_time', now()::text)::text,"
    " repeat('0', 64), md5(i::text) || md5(i::text), now() FROM generate_series(1, :n) i",
    "INSERT INTO custody_event (event_id, org_id, seq, kind, body, prev_hash, hash, recorded_at) SELECT "
    + hexid("2 * i + 1", 2**56)
    + ", :org, 2 * i + 1, 'transfer_confirmed', json_build_object('from_actor_id', "
    + hexid("i % 200", 2**48)
    + "::text, 'to_actor_id', "
    + hexid("(i + 1) % 200", 2**48)
    + "::text, 'mass_kg', 1,"
    " 'lots', json_build_object('subject', json_build_array(" + hexid("i") + "::text)))::text,"
    " repeat('0', 64), md5(i::text) || md5(i::text), now() FROM generate_series(1, :n) i",
    "INSERT INTO custody_event_lot (event_id, lot_id, role) SELECT "
    + hexid("2 * i", 2**56)
    + ", "
    + hexid("i")
    + ", CASE WHEN i < 4 THEN 'subject' ELSE 'output' END FROM generate_series(1, :n) i",
    "INSERT INTO custody_event_lot (event_id, lot_id, role) SELECT "
    + hexid("2 * i + 1", 2**56)
    + ", "
    + hexid("i")
    + ", 'subject' FROM generate_series(1, :n) i",
    "INSERT INTO custody_event_lot (event_id, lot_id, role) SELECT DISTINCT "
    + hexid("2 * lot_i", 2**56)
    + ", "
    + hexid("j")
    + ", 'input' FROM generate_series(4, :n) lot_i, LATERAL (VALUES (lot_i / 2), (lot_i / 2 - 1),"
    " (lot_i / 3)) v(j) WHERE j >= 1 AND j < lot_i",
    "INSERT INTO known_actor (actor_id, org_id, legal_name, actor_type, country, kyc_status, version, updated_at)"
    " SELECT " + hexid("a", 2**48) + ", :org, 'actor ' || a, 'trader', 'CD', 'approved', 3, now()"
    " FROM generate_series(0, 199) a",
    "INSERT INTO known_site (site_id, org_id, name, country, status, version, updated_at) SELECT "
    + hexid("s", 2**40)
    + ", :org, 'site ' || s, 'CD', 'green', 1, now() FROM generate_series(0, 49) s",
    "INSERT INTO known_incident (incident_id, org_id, level, status, category, actor_ids, site_ids, lot_ids, version,"
    " updated_at) SELECT " + hexid("k", 2**60) + ", :org, 2, 'triage', 'annex2.other', '[]'::json,"
    " json_build_array(" + hexid("k", 2**40) + "::text), '[]'::json, 1, now() FROM generate_series(0, 19) k",
    "INSERT INTO known_score (subject_id, subject_type, org_id, score, band, factors, computed_at, version,"
    " updated_at) SELECT " + hexid("i") + ", 'lot', :org, 10, 'low', '[]'::json, now(), 1, now()"
    " FROM generate_series(1, :n) i",
    "INSERT INTO custody_checkpoint (org_id, tree_size, root_hash, key_id, statement, signature, signed_at)"
    " VALUES (:org, 2 * :n + 2, repeat('0', 64), 'bench', '{}', '', now())",
    # the smelter holds every late lot the benchmark asks about
    "INSERT INTO lot_holder (lot_id, actor_id) SELECT "
    + hexid("i")
    + ", CAST(:smelter AS uuid) FROM generate_series(:n / 2, :n) i",
]


async def fill(url: str, n: int) -> None:
    engine = make_engine(url, pool_size=2)
    async with engine.begin() as conn:
        for statement in FILL:
            # n is an int of ours, spliced in: generate_series bounds are not typed from a bind parameter
            text = statement.replace(":n", str(int(n)))
            await conn.execute(
                sa.text(text), {"org": ORG, "smelter": str(SMELTER)} if ":smelter" in text else {"org": ORG}
            )
        for table in ("lot", "lot_input", "lot_holder", "custody_event", "custody_event_lot", "known_score"):
            await conn.execute(sa.text(f"ANALYZE {table}"))
    await engine.dispose()


async def measure(url: str, n: int, principal: Principal) -> tuple[list[float], int, int]:
    engine = make_engine(url, pool_size=2)
    rng, times, lots, events = random.Random(n), [], 0, 0
    async with read_engine(engine).connect() as conn:
        for _ in range(CALLS):
            lot_id = uuid.UUID(int=rng.randint(n // 2, n))
            start = time.perf_counter()
            await access.require_visible(conn, lot_id, principal)
            view = await custody_view.custody_view(conn, lot_id, org_id=ORG)
            view.model_dump_json()
            times.append(time.perf_counter() - start)
            lots, events = lots + len(view.lots), events + len(view.events)
    await engine.dispose()
    return times, lots // CALLS, events // CALLS


async def main(url: str) -> None:
    start = time.perf_counter()
    await fill(url, LOTS)
    print(f"{LOTS} lots, ~{3 * LOTS} links, {2 * LOTS} events (made in {time.perf_counter() - start:.0f} s)")
    callers = {
        "operator": Principal("op", ORG, OrgKind.OPERATOR, frozenset({"admin"})),
        "smelter": Principal("sm", ORG, OrgKind.SMELTER, frozenset(), actor_id=str(SMELTER)),
    }
    for name, principal in callers.items():
        times, lots, events = await measure(url, LOTS, principal)
        ms = [t * 1000 for t in times]
        print(
            f"  custody view as {name}: p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms"
            f" ({lots} lots, {events} events on average, n={CALLS})",
            flush=True,
        )


if __name__ == "__main__":
    admin_url, _ = servers.find_postgres()
    if admin_url is None:
        print("needs PostgreSQL")
    else:
        asyncio.run(servers.create_databases(admin_url, ["assay_bench_traceability_custody"]))
        database = servers.with_database(admin_url, "assay_bench_traceability_custody")
        migrations.upgrade("traceability", database)
        asyncio.run(main(database))
