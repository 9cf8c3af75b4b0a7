"""Shared set-up for benchmarks: PostgreSQL databases, valid KYC events, percentiles, and CPU accounting per process."""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from uuid import UUID

import psutil

from libs.common import migrations
from libs.common.events.kyc import ActorState, ActorSuspended
from tests.support import servers

ORG = "org-bench"


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def summary_ms(values: list[float]) -> str:
    if not values:
        return "no samples"
    ms = [v * 1000 for v in values]
    return (
        f"p50 {percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms, max {max(ms):.1f} ms, "
        f"mean {statistics.fmean(ms):.1f} ms (n={len(ms)})"
    )


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


# --- valid KYC events -----------------------------------------------------------------------------------------


class Versions:
    """The next `aggregate_version` of each key: one higher for each event of that key, as KYC numbers them."""

    def __init__(self) -> None:
        self.last: dict[str, int] = defaultdict(int)

    def next(self, key: UUID | str) -> int:
        self.last[str(key)] += 1
        return self.last[str(key)]


def suspension(
    actor_id: UUID, version: int, *, reason: str = "licence documents missing at the last site visit", org_id: str = ORG
) -> ActorSuspended:
    """An ActorSuspended as KYC writes it: the actor's whole public state after the event, and its version."""
    actor = ActorState(
        actor_id=actor_id,
        org_id=org_id,
        actor_type="trader",
        legal_name=f"Comptoir Minier {str(actor_id)[:8]} SARL",
        registration_number="CD/GOM/RCCM/1",
        country="CD",
        region="CD-NK",
        minerals=["cassiterite"],
        kyc_status="suspended",
        risk_level="medium",
        risk_factors=[],
        shared_with=[],
    )
    return ActorSuspended(
        org_id=org_id,
        aggregate_version=version,
        actor_id=actor_id,
        actor=actor,
        suspended_by="bench-user",
        reason=reason,
    )


# --- CPU accounting ---------------------------------------------------------------------------------------------


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


@dataclass
class _Seen:
    label: str
    first: float  # CPU seconds when the window opened (0 for a process born inside it)
    last: float


Discover = Callable[[], Iterable[tuple[str, psutil.Process]]]


class CpuMeter:
    """CPU time (user + system) of a changing set of processes over a window, per label.

    `discover()` names the processes to count; it is called every `every` seconds from a thread, so processes that
    start during the window (restarts, new PostgreSQL backends) are counted from zero, and ones that exit count up
    to their last sample (at most `every` seconds of their CPU are missed)."""

    def __init__(self, discover: Discover, *, every: float = 0.5) -> None:
        self.discover, self.every = discover, every
        self.seen: dict[tuple[int, float], _Seen] = {}
        self.started = self.wall = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> CpuMeter:
        self.started_epoch, self.started = time.time(), time.monotonic()
        self._sample()
        self._thread = threading.Thread(target=self._run, name="cpu-meter", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> dict[str, float]:
        """CPU seconds per label over the window; the window's length is in `self.wall`."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        self.wall = time.monotonic() - self.started
        totals: dict[str, float] = defaultdict(float)
        for seen in self.seen.values():
            totals[seen.label] += max(0.0, seen.last - seen.first)
        return dict(totals)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def _sample(self) -> None:
        try:
            found = list(self.discover())
        except (psutil.Error, OSError):
            return
        for label, process in found:
            try:
                with process.oneshot():
                    key = (process.pid, process.create_time())
                    cpu = cpu_seconds(process)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            seen = self.seen.get(key)
            if seen is None:
                born_inside = key[1] > self.started_epoch
                self.seen[key] = _Seen(label, 0.0 if born_inside else cpu, cpu)
            else:
                seen.last = cpu


def cpu_table(totals: dict[str, float], wall: float, *, indent: str = "    ", shared: Iterable[str] = ()) -> str:
    """One line per label, busiest first, as CPU seconds and % of one core; labels in `shared` are listed after
    the total and left out of it (processes other people's work also uses)."""
    shared = set(shared)
    own = {k: v for k, v in totals.items() if k not in shared}
    width = max((len(k) for k in totals), default=10)
    lines = [
        f"{indent}{label:<{width}}  {secs:7.2f} s  {100 * secs / wall:6.1f} % of a core"
        for label, secs in sorted(own.items(), key=lambda kv: -kv[1])
    ]
    total = sum(own.values())
    lines.append(
        f"{indent}{'total':<{width}}  {total:7.2f} s  {100 * total / wall:6.1f} % of a core  (over {wall:.1f} s)"
    )
    for label, secs in sorted(((k, v) for k, v in totals.items() if k in shared), key=lambda kv: -kv[1]):
        lines.append(
            f"{indent}{label:<{width}}  {secs:7.2f} s  {100 * secs / wall:6.1f} % of a core"
            "  (shared with everyone using this server; not in the total)"
        )
    return "\n".join(lines)


def process_label(process: psutil.Process) -> str:
    """A short name from a process's command line: kyc-worker, traceability-api, broker, launcher, ..."""
    try:
        cmdline = process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return f"pid {process.pid}"
    joined = " ".join(cmdline)
    if "tansu" in joined and " broker" in joined:
        return "broker"
    if "deploy.local" in joined:
        return "launcher"
    for i, arg in enumerate(cmdline):
        if arg.startswith("services.") and i + 1 < len(cmdline):
            return f"{arg.split('.', 1)[1]}-{cmdline[i + 1]}"
    if "multiprocessing" in joined:
        return "python (multiprocessing helper)"
    return os.path.basename(cmdline[0]) if cmdline else process.name()


# "postgres: 15/main: postgres assay_bench_kyc 127.0.0.1(41752) idle"
_BACKEND = re.compile(r"^postgres: (?:\S+: )?(?P<user>\S+) (?P<db>\S+) (?P<host>[^\s(]+)\((?P<port>\d+)\)")


class PostgresBackends:
    """The PostgreSQL server processes of a run: each backend of `databases` labelled by the client process that
    opened it (found by the client's TCP port among `clients`' connections), and the server's background
    processes (shared with everyone else on the server)."""

    def __init__(self, databases: Iterable[str], clients: Callable[[], dict[str, psutil.Process]]) -> None:
        self.databases, self.clients = set(databases), clients
        self.owner: dict[tuple[int, float], str] = {}

    def __call__(self) -> list[tuple[str, psutil.Process]]:
        found, unresolved = [], []
        for process in psutil.process_iter(["name", "cmdline", "create_time"]):
            if process.info["name"] != "postgres":
                continue
            title = " ".join(a for a in process.info["cmdline"] or () if a).strip()
            match = _BACKEND.match(title)
            if match is None:
                if title.startswith("postgres: "):  # checkpointer, walwriter, autovacuum ...
                    found.append(("postgres background", process))
                continue
            if match["db"] not in self.databases:
                continue  # other people's databases
            key = (process.pid, process.info["create_time"])
            if key not in self.owner:
                unresolved.append((key, match, process))
            else:
                found.append((self.owner[key], process))
        if unresolved:
            ports = self._client_ports()
            for key, match, process in unresolved:
                client = ports.get(int(match["port"]))
                self.owner[key] = f"postgres for {client}" if client else f"postgres ({match['db']})"
                found.append((self.owner[key], process))
        return found

    def _client_ports(self) -> dict[int, str]:
        ports: dict[int, str] = {}
        for label, process in self.clients().items():
            try:
                for conn in process.net_connections(kind="tcp"):
                    if conn.laddr:
                        ports[conn.laddr.port] = label
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return ports


def processes(named: dict[str, int | None]) -> dict[str, psutil.Process]:
    """psutil handles of the live pids among `named` (label → pid)."""
    found = {}
    for label, pid in named.items():
        if pid is None:
            continue
        try:
            found[label] = psutil.Process(pid)
        except psutil.NoSuchProcess:
            continue
    return found
