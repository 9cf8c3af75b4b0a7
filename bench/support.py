"""Shared set-up for benchmarks: a PostgreSQL database per service, a fresh local broker, percentiles."""
from __future__ import annotations

import asyncio
import os
import statistics

from libs.common import migrations
from tests.support import servers


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def summary_ms(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"p50 {percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms, max {max(ms):.1f} ms, "
            f"mean {statistics.fmean(ms):.1f} ms (n={len(ms)})")


def bench_databases(services_: tuple[str, ...]) -> dict[str, str]:
    """Fresh, migrated databases on the PostgreSQL the tests would use (SQLite files if there is none)."""
    admin_url, _ = servers.find_postgres()
    if admin_url is None:
        os.makedirs("var/bench", exist_ok=True)
        urls = {s: f"sqlite+aiosqlite:///var/bench/{s}.db" for s in services_}
        for url in urls.values():
            path = url.rpartition("///")[2]
            if os.path.exists(path):
                os.remove(path)
    else:
        names = {s: f"assay_bench_{s}" for s in services_}
        asyncio.run(servers.create_databases(admin_url, list(names.values())))
        urls = {s: servers.with_database(admin_url, n) for s, n in names.items()}
    for service, url in urls.items():
        migrations.upgrade(service, url)
    return urls
