"""Incident intake through the API against a bare FastAPI endpoint in the same run (bench/http.py's machinery):
wrk -t2 -c64 on POST /incidents (staff token) and on the public whistle-blower POST /public/reports, on PostgreSQL.

Compare the ratios to the bare endpoint: figures on a busy machine are noisy."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path
from uuid import uuid4

from bench.http import (
    DONE,
    THREADS,
    Result,
    Server,
    announce,
    bare_server,
    bearer,
    ensure_wrk,
    get_script,
    measure,
    migrated_database,
    service_server,
    table,
    wrk_arguments,
)
from libs.common.auth import issue_token
from libs.common.devservers import free_port
from libs.common.settings import ServiceSettings
from tests.support import servers

DATABASE = "assay_bench_incidents"
JWT_SECRET = "bench-incidents-secret-0123456789-0123456789"
ORG = "org-bench-incidents"


def report_script(path: str, token: str | None, run: str, *, public: bool) -> str:
    org = f'"org_id": "{ORG}", ' if public else ""
    return (
        f'{bearer(token)}wrk.headers["Content-Type"] = "application/json"\n{THREADS}'
        f"function request()\n  counter = counter + 1\n"
        f'  local body = string.format(\'{{{org}"category": "environment.mercury", '
        f'"title": "Mercury at pit {run} %d-%d", "country": "CD", "region": "CD-SK", "mineral": "gold"}}\', '
        f"tid or 0, counter)\n"
        f'  return wrk.format("POST", "{path}", nil, body)\nend\n{DONE}'
    )


def incidents_server(port: int, workers: int, url: str, folder: Path) -> Server:
    # wrk is one client address: measure, do not limit
    return service_server(
        "incidents", port, workers, url, folder, secret=JWT_SECRET, INCIDENTS_PUBLIC_RATE_PER_MINUTE="100000000"
    )


def fresh_database() -> str:
    return migrated_database("incidents", DATABASE)


def run_for(workers: int, wrk: str, folder: Path, args: argparse.Namespace) -> list[Result]:
    results = []
    with bare_server(free_port(), workers, folder) as bare:
        path = f"/items/{uuid4()}"
        results.append(
            measure(wrk, "bare GET /items/{id}", bare, bare.base + path, get_script(path, None), folder, args, None)
        )
    url = fresh_database()
    token = issue_token(
        ServiceSettings(jwt_secret=JWT_SECRET), user_id="bench", org_id=ORG, org_kind="operator", roles=["analyst"]
    )
    with incidents_server(free_port(), workers, url, folder) as api:
        run = uuid4().hex[:6]
        cases = [
            ("POST /incidents", "/incidents", report_script("/incidents", token, run, public=False)),
            ("POST /public/reports", "/public/reports", report_script("/public/reports", None, run, public=True)),
        ]
        for name, path, script in cases:
            results.append(measure(wrk, name, api, api.base + path, script, folder, args, None, database=DATABASE))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.incidents_intake", description=__doc__)
    parser.add_argument("--workers", default="1", help="API_WORKERS values to measure, comma-separated")
    wrk_arguments(parser)
    args = parser.parse_args()
    wrk = ensure_wrk()
    announce(args)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-incidents-") as tmp:
            for workers in (int(w) for w in args.workers.split(",")):
                print(table(workers, run_for(workers, wrk, Path(tmp), args)), flush=True)
    finally:
        admin_url, _ = servers.find_postgres()
        if admin_url is not None:
            asyncio.run(servers.drop_databases(admin_url, [DATABASE]))


if __name__ == "__main__":
    main()
