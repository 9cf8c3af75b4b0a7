"""Issue 14, the four services under load: for KYC, incidents, traceability and scoring, one read (GET by id) and
one write (a POST that creates something, every body distinct) under wrk -t2 -c64, each API a uvicorn process of
its own as the platform runs it (`python -m services.<name> api`, API_WORKERS=1) on a fresh migrated PostgreSQL
database, next to the bare FastAPI endpoint measured in the same run (bench/http.py's machinery).

Errors are non-2xx answers and socket errors (connect, read, write, timeout). Figures on a busy machine are noisy:
compare the ratios to the bare endpoint."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx

from bench.http import (
    DONE,
    JWT_SECRET,
    THREADS,
    Result,
    Server,
    announce,
    bare_server,
    bearer,
    ensure_wrk,
    get_by_id_script,
    get_script,
    measure,
    migrated_database,
    post_script,
    seed,
    service_server,
    table,
    wrk_arguments,
)
from bench.incidents_intake import report_script
from libs.common.auth import issue_token
from libs.common.db import make_engine, make_sessions
from libs.common.devservers import free_port
from libs.common.events.kyc import ActorApproved, ActorState, MineSiteRegistered, MineSiteState
from libs.common.settings import ServiceSettings
from services.traceability import handlers as traceability_handlers
from tests.support import servers

ORG = "org-bench-system"
SERVICES = ("kyc", "incidents", "traceability", "scoring")
SEEDED = 200  # entities created through each API before its read is measured
TAG_SPAN = 20_000  # tags per wrk thread per run: more lots than a thread creates in a run
TAG_BLOCK = 10_000  # the most tags one POST /tag-blocks issues


def database(service: str) -> str:
    return f"assay_bench_system_{service}"


def token() -> str:
    settings = ServiceSettings(jwt_secret=JWT_SECRET)
    return issue_token(settings, user_id="bench", org_id=ORG, org_kind="operator", roles=["admin"])


def post_format_script(path: str, bearer_token: str, body: str, values: str) -> str:
    """POST `path` with `string.format(body, values)` per request; `values` may use `tid` (the wrk thread, from 1)
    and `counter` (requests of that thread so far)."""
    return (
        f'{bearer(bearer_token)}wrk.headers["Content-Type"] = "application/json"\n{THREADS}'
        f"function request()\n  counter = counter + 1\n"
        f"  local body = string.format([[{body}]], {values})\n"
        f'  return wrk.format("POST", "{path}", nil, body)\nend\n{DONE}'
    )


@dataclass
class Case:
    name: str
    path: str  # what wrk is pointed at
    script: str | Callable[[], str]


async def created(base: str, bearer_token: str, path: str, bodies: list[dict]) -> list[str]:
    """Each body POSTed to `path`, a few at a time; the ids of what was created."""
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {bearer_token}"}, timeout=30) as c:
        semaphore = asyncio.Semaphore(8)

        async def one(body: dict) -> str:
            async with semaphore:
                response = await c.post(path, json=body)
            if response.status_code >= 300:
                raise SystemExit(f"seeding POST {path}: {response.status_code} {response.text}")
            answer = response.json()
            return str(answer.get("id") or answer.get("lot_id") or answer.get("incident_id"))

        return await asyncio.gather(*(one(b) for b in bodies))


# --- per service: seed, then the read and the write -----------------------------------------------------------


def kyc_cases(base: str, bearer_token: str) -> list[Case]:
    ids = asyncio.run(seed(base, bearer_token, SEEDED))
    return [
        Case("kyc GET /actors/{id}", "/actors/" + ids[0], get_by_id_script("/actors/", ids, bearer_token)),
        Case("kyc POST /actors", "/actors", post_script("/actors", bearer_token, uuid4().hex[:6])),
    ]


def incidents_cases(base: str, bearer_token: str) -> list[Case]:
    body = {
        "category": "environment.mercury",
        "title": "Mercury at the pit",
        "country": "CD",
        "region": "CD-SK",
        "mineral": "gold",
    }
    ids = asyncio.run(created(base, bearer_token, "/incidents", [body] * SEEDED))
    run = uuid4().hex[:6]
    return [
        Case(
            "incidents GET /incidents/{id}", "/incidents/" + ids[0], get_by_id_script("/incidents/", ids, bearer_token)
        ),
        Case("incidents POST /incidents", "/incidents", report_script("/incidents", bearer_token, run, public=False)),
    ]


def scoring_cases(base: str, bearer_token: str) -> list[Case]:
    bodies = [{"framework": "craft", "subject_type": "actor", "subject_id": str(uuid4())} for _ in range(SEEDED)]
    ids = asyncio.run(created(base, bearer_token, "/assessments", bodies))
    body = '{"framework": "craft", "subject_type": "actor", "subject_id": "%08x-0000-4000-8000-%012x"}'
    runs = itertools.count(1)

    def write() -> str:  # subjects distinct across the warm-up and the measured run too
        return post_format_script("/assessments", bearer_token, body, f"{next(runs)} * 16 + tid, counter")

    return [
        Case(
            "scoring GET /assessments/{id}",
            "/assessments/" + ids[0],
            get_by_id_script("/assessments/", ids, bearer_token),
        ),
        Case("scoring POST /assessments", "/assessments", write),
    ]


async def apply_events(url: str, *events: Any) -> None:
    """Events as KYC publishes them, applied to traceability's database at `url` by traceability's own handlers."""
    engine = make_engine(url, pool_size=1)
    sessions = make_sessions(engine)
    try:
        for event in events:
            async with sessions() as db, db.begin():
                await traceability_handlers.HANDLERS[type(event)](db, event)
    finally:
        await engine.dispose()


async def green_site(url: str, org: str = ORG) -> UUID:
    """A green mine site of `org`, with no capacity limit, known to traceability."""
    site_id = uuid4()
    site = MineSiteState(
        site_id=site_id, org_id=org, name="Nyabibwe", country="CD", minerals=["tin"], capacity_kg_per_month=None,
        status="green", status_since_date=date(2026, 1, 1),
    )  # fmt: skip
    await apply_events(url, MineSiteRegistered(org_id=org, site_id=site_id, aggregate_version=1, site=site))
    return site_id


async def traceability_programme(url: str) -> tuple[UUID, UUID]:
    """An approved producer and a green site, as KYC announces them."""
    actor_id = uuid4()
    actor = ActorState(
        actor_id=actor_id, org_id=ORG, actor_type="cooperative", legal_name="Coopérative Minière de Nyabibwe",
        country="CD", region="CD-SK", kyc_status="approved",
    )  # fmt: skip
    approved = ActorApproved(org_id=ORG, actor_id=actor_id, aggregate_version=3, actor=actor, approved_by="bench")
    await apply_events(url, approved)
    return actor_id, await green_site(url)


def traceability_cases(base: str, bearer_token: str, url: str, runs: int) -> list[Case]:
    producer, site = asyncio.run(traceability_programme(url))
    tags = (runs + 1) * 2 * TAG_SPAN  # the seeded lots', then per run of wrk two threads' worth
    blocks = [
        {"prefix": "T", "first": first, "count": TAG_BLOCK, "site_id": str(site)} for first in range(0, tags, TAG_BLOCK)
    ]
    asyncio.run(created(base, bearer_token, "/tag-blocks", blocks))
    lot = {"mineral": "tin", "hs_code": "2609", "form": "ore", "mass": 25.0, "unit": "KGM", "grade_pct": 60}
    lot |= {"site_id": str(site), "producer_actor_id": str(producer)}
    ids = asyncio.run(created(base, bearer_token, "/lots", [{**lot, "tag": f"T{n}"} for n in range(SEEDED)]))
    body = (
        '{"tag": "T%d", "mineral": "tin", "hs_code": "2609", "form": "ore", "mass": 25.0, "unit": "KGM", '
        f'"grade_pct": 60, "site_id": "{site}", "producer_actor_id": "{producer}"}}'
    )
    run = itertools.count(1)

    def write() -> str:  # run r, thread t: tags from (2r + t - 1) * TAG_SPAN on; run 0 is the seeded lots
        first = 2 * next(run) * TAG_SPAN
        return post_format_script("/lots", bearer_token, body, f"{first} + (tid - 1) * {TAG_SPAN} + counter")

    return [
        Case("traceability GET /lots/{id}", "/lots/" + ids[0], get_by_id_script("/lots/", ids, bearer_token)),
        Case("traceability POST /lots", "/lots", write),
    ]


def cases_of(service: str, api: Server, bearer_token: str, url: str) -> list[Case]:
    if service == "kyc":
        return kyc_cases(api.base, bearer_token)
    if service == "incidents":
        return incidents_cases(api.base, bearer_token)
    if service == "scoring":
        return scoring_cases(api.base, bearer_token)
    return traceability_cases(api.base, bearer_token, url, runs=2)


# --- the run ----------------------------------------------------------------------------------------------------


def run(wrk: str, folder: Path, args: argparse.Namespace) -> list[Result]:
    results = []
    with bare_server(free_port(), 1, folder) as bare:
        path = f"/items/{uuid4()}"
        results.append(
            measure(wrk, "bare GET /items/{id}", bare, bare.base + path, get_script(path, None), folder, args, None)
        )
    bearer_token = token()
    for service in args.services.split(","):
        url = migrated_database(service, database(service))
        extra = {"INCIDENTS_PUBLIC_RATE_PER_MINUTE": "100000000"} if service == "incidents" else {}
        with service_server(service, free_port(), 1, url, folder, **extra) as api:
            for case in cases_of(service, api, bearer_token, url):
                result = measure(
                    wrk, case.name, api, api.base + case.path, case.script, folder, args, None,
                    database=database(service),
                )  # fmt: skip
                results.append(result)
                print(f"  measured {case.name}: {result.rps:.0f} rps", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.system_http", description=__doc__)
    wrk_arguments(parser)
    parser.add_argument("--services", default=",".join(SERVICES), help="comma-separated, of " + ", ".join(SERVICES))
    args = parser.parse_args()
    wrk = ensure_wrk()
    announce(args)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-system-http-") as tmp:
            print(table(1, run(wrk, Path(tmp), args)), flush=True)
    finally:
        admin_url, _ = servers.find_postgres()
        if admin_url is not None:
            asyncio.run(servers.drop_databases(admin_url, [database(s) for s in SERVICES]))


if __name__ == "__main__":
    main()
