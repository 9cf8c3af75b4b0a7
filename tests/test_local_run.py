"""`make run` (python -m deploy.local) as a real process: what dies or hangs comes back, Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from libs.common.devservers import free_port
from tests.support.raw_http import is_bad_request_problem, unparsable_request

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("kyc", "incidents", "traceability", "scoring")
# Variables of the surrounding shell that would point the launcher at other servers or ports.
FOREIGN = ("KAFKA_BOOTSTRAP_SERVERS", "JWT_SECRET", "JWT_PUBLIC_KEY", "HOST", "STORAGE_DIR", "S3_ENDPOINT")

pytestmark = pytest.mark.timeout(600)


class Launcher:
    """The launcher process, its output collected by a thread so its pipe never fills."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deploy.local"],
            cwd=ROOT,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def children(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def child(self, service: str, kind: str) -> psutil.Process | None:
        for process in self.children():
            try:
                if process.cmdline()[1:4] == ["-m", f"services.{service}", kind]:
                    return process
            except (psutil.NoSuchProcess, psutil.AccessDenied, IndexError):
                continue
        return None


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def wait_until(condition, *, timeout: float, what: str, launcher: Launcher) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if launcher.process.poll() is not None:
            break
        time.sleep(0.25)
    raise AssertionError(f"{what} (within {timeout:.0f}s); launcher output:\n{launcher.output}")


def is_alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_make_run_restarts_what_dies_or_hangs_and_ctrl_c_stops_everything(tmp_path):
    api_ports = {s: free_port() for s in SERVICES}
    worker_ports = {s: free_port() for s in SERVICES}
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN and not k.endswith(("_DATABASE_URL", "_PORT"))}
    env.update({f"{s.upper()}_PORT": str(p) for s, p in api_ports.items()})
    env.update({f"{s.upper()}_WORKER_PORT": str(p) for s, p in worker_ports.items()})
    gateway_port = free_port()
    env.update(ASSAY_VAR_DIR=str(tmp_path), KAFKA_PORT=str(free_port()), GATEWAY_PORT=str(gateway_port))
    launcher = Launcher(env)
    seen: list[psutil.Process] = []
    try:
        wait_until(lambda: "Assay is running" in launcher.output, timeout=240, what="the banner", launcher=launcher)
        everything = [*api_ports.values(), *worker_ports.values(), gateway_port]
        wait_until(lambda: all(healthy(p) for p in everything), timeout=120, what="all healthy", launcher=launcher)
        assert f"http://127.0.0.1:{worker_ports['kyc']}/health" in launcher.output
        assert (tmp_path / "log" / "kyc-worker.log").exists()
        assert f"entry point   http://127.0.0.1:{gateway_port}" in launcher.output
        with urllib.request.urlopen(f"http://127.0.0.1:{gateway_port}/kyc/health", timeout=5) as through:
            assert b'"kyc"' in through.read()
        unreadable = unparsable_request(gateway_port)  # the gateway's uvicorn answers a problem, not text/plain
        assert is_bad_request_problem(unreadable), unreadable

        killed_worker, killed_api = launcher.child("kyc", "worker"), launcher.child("incidents", "api")
        hung_worker = launcher.child("scoring", "worker")
        assert killed_worker and killed_api and hung_worker
        killed_worker.send_signal(signal.SIGKILL)
        killed_api.send_signal(signal.SIGKILL)
        hung_worker.send_signal(signal.SIGSTOP)  # alive, port open, but it answers nothing

        def back(service: str, kind: str, port: int, old: psutil.Process) -> bool:
            new = launcher.child(service, kind)
            return new is not None and new.pid != old.pid and healthy(port)

        wait_until(
            lambda: back("kyc", "worker", worker_ports["kyc"], killed_worker),
            timeout=90,
            what="the killed kyc worker is back",
            launcher=launcher,
        )
        wait_until(
            lambda: back("incidents", "api", api_ports["incidents"], killed_api),
            timeout=90,
            what="the killed incidents api is back",
            launcher=launcher,
        )
        wait_until(
            lambda: back("scoring", "worker", worker_ports["scoring"], hung_worker),
            timeout=120,
            what="the hung scoring worker is replaced",
            launcher=launcher,
        )
        assert "kyc-worker exited with code -9" in launcher.output
        assert "incidents-api exited with code -9" in launcher.output
        assert "scoring-worker failed 3 health checks in a row" in launcher.output

        seen = launcher.children()
        assert len([p for p in seen if is_alive(p)]) >= 10  # 4 apis, 4 workers, the gateway, the broker
        launcher.process.send_signal(signal.SIGINT)
        assert launcher.process.wait(timeout=60) == 0, launcher.output
        assert [p.pid for p in seen if is_alive(p)] == []
        assert "Assay stopped." in launcher.output
    finally:
        if launcher.process.poll() is None:
            seen += launcher.children()
            launcher.process.kill()
            launcher.process.wait(timeout=10)
        for process in seen:
            if is_alive(process):
                process.kill()
