"""What an idle platform costs: `make run` (python -m deploy.local) in a temporary data directory on free ports,
every API answering /health, then the CPU time of the launcher and every process under it (the Tansu broker, four
APIs, four workers) over a quiet minute, as % of one core, in total and per process. Target: ≤ 3 % in total.

Stopped with SIGINT (Ctrl-C) at the end; any process of the platform still running afterwards is reported and
killed."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

import psutil

from bench.support import CpuMeter, cpu_table, process_label
from libs.common.devservers import free_port

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("kyc", "incidents", "traceability", "scoring")
TARGET_PERCENT = 3.0
STOP_TIMEOUT = 60.0
# Settings a developer's shell may carry that would point the platform elsewhere than its own temporary directory.
DROPPED_PREFIXES = ("KAFKA_", "S3_", "RELAY_", "CONSUMER_", "BROKER_")
DROPPED = {"STORAGE_DIR", "SCHEDULER_INTERVAL_SECONDS", "ASSAY_VAR_DIR", "HOST"}


def platform_env(var_dir: str) -> tuple[dict[str, str], dict[str, int]]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(DROPPED_PREFIXES)
        and k not in DROPPED
        and not k.endswith("_DATABASE_URL")
        and not any(k.startswith(s.upper() + "_") for s in SERVICES)
    }
    ports = {"KAFKA_PORT": free_port()}
    for service in SERVICES:
        ports[f"{service.upper()}_PORT"] = free_port()
        ports[f"{service.upper()}_WORKER_PORT"] = free_port()
    env.update({k: str(v) for k, v in ports.items()})
    env.update(ASSAY_VAR_DIR=var_dir, PYTHONUNBUFFERED="1")
    return env, ports


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def wait_until_up(launcher: subprocess.Popen, ports: dict[str, int], *, timeout: float, log: Path) -> float:
    started = time.monotonic()
    urls = [f"http://127.0.0.1:{ports[f'{s.upper()}_PORT']}/health" for s in SERVICES]
    pending = list(urls)
    while pending:
        if launcher.poll() is not None:
            raise SystemExit(f"the launcher exited with {launcher.returncode}; see {log}")
        if time.monotonic() - started > timeout:
            raise SystemExit(f"not answering /health after {timeout:.0f}s: {', '.join(pending)}; see {log}")
        pending = [url for url in pending if not answers(url)]
        time.sleep(0.5)
    return time.monotonic() - started


def tree(root: psutil.Process) -> list[psutil.Process]:
    try:
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def stop(launcher: subprocess.Popen, seen: list[psutil.Process]) -> list[str]:
    """SIGINT to the launcher, as Ctrl-C would; returns what was still running afterwards (and is killed now)."""
    if launcher.poll() is None:
        launcher.send_signal(signal.SIGINT)
        try:
            launcher.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
    left = []
    for process in seen:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{process_label(process)} (pid {process.pid})")
                process.kill()
        except psutil.NoSuchProcess:
            continue
    if launcher.poll() is None:
        launcher.kill()
        launcher.wait()
    return left


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="measuring window")
    parser.add_argument("--settle", type=float, default=10.0, help="wait this long after every API answers")
    parser.add_argument("--startup-timeout", type=float, default=180.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory (logs)")
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="assay-idle-")
    env, ports = platform_env(var_dir)
    log_path = Path(var_dir) / "launcher.log"
    seen: dict[tuple[int, float], psutil.Process] = {}
    with log_path.open("wb") as log:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "deploy.local"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    left: list[str] = []
    try:
        up_after = wait_until_up(launcher, ports, timeout=args.startup_timeout, log=log_path)
        print(f"platform up (every API /health 200) after {up_after:.1f}s; settling {args.settle:.0f}s", flush=True)
        time.sleep(args.settle)
        root = psutil.Process(launcher.pid)

        def discover() -> list[tuple[str, psutil.Process]]:
            found = tree(root)
            for process in found:
                try:
                    seen.setdefault((process.pid, process.create_time()), process)
                except psutil.NoSuchProcess:
                    continue
            return [(process_label(p), p) for p in found]

        meter = CpuMeter(discover, every=1.0).start()
        time.sleep(args.seconds)
        totals = meter.stop()
        discover()
        per_label = Counter(entry.label for entry in meter.seen.values())
        restarted = sorted(label for label, count in per_label.items() if count > 1)
    finally:
        if not seen:
            for process in tree(psutil.Process(launcher.pid)) if launcher.poll() is None else []:
                seen.setdefault((process.pid, process.create_time()), process)
        left = stop(launcher, list(seen.values()))
    total = sum(totals.values())
    percent = 100 * total / meter.wall
    print(
        f"idle platform, {len(seen)} processes, over {meter.wall:.0f}s: {total:.2f} CPU s = {percent:.1f} % of one "
        f"core (target ≤ {TARGET_PERCENT:.0f} %: {'met' if percent <= TARGET_PERCENT else 'NOT met'})"
    )
    print(cpu_table(totals, meter.wall))
    if restarted:
        print(f"  restarted during the window (several processes under one name): {', '.join(restarted)}")
    print(
        f"stopped with SIGINT: launcher exit code {launcher.returncode}; "
        + (f"STILL RUNNING afterwards (killed now): {', '.join(left)}" if left else "nothing left running")
    )
    if args.keep:
        print(f"data and logs kept in {var_dir}")
    else:
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
