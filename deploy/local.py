"""`make run`: the whole platform on this machine — broker, migrations, four APIs and four workers behind one gateway
(deploy/gateway.py), each restarted when it dies (a worker also when its /health keeps failing); Ctrl-C stops it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from deploy import demo
from libs.common.devservers import TansuBroker
from libs.common.settings import VAR_DIR, dev_jwt_secret

SERVICES = {"kyc": 8001, "incidents": 8002, "traceability": 8003, "scoring": 8004}
WORKER_PORTS = {"kyc": 9101, "incidents": 9102, "traceability": 9103, "scoring": 9104}
GATEWAY_PORT = 8000
LOG_DIR = VAR_DIR / "log"
FIRST_RESTART_SECONDS = 1.0
MAX_RESTART_SECONDS = 30.0
HEALTHY_RUN_SECONDS = 60.0  # a child that ran this long before dying starts its backoff over
CHECK_EVERY_SECONDS = 5.0
FAILED_CHECKS = 3  # a worker whose /health fails this many checks in a row is restarted
STARTUP_GRACE_SECONDS = 30.0  # failed checks count only after the first success or this long
STARTUP_SECONDS = 60.0
STOP_SECONDS = 15.0


@dataclass
class Restarts:
    """Backoff for one thing that can die: 1 s doubling to 30 s, back to 1 s after it ran fine for a minute."""

    delay: float = FIRST_RESTART_SECONDS
    started_at: float = field(default_factory=time.monotonic)
    due_at: float | None = None  # when the next start is due; None while running

    def died(self) -> float:
        now = time.monotonic()
        if now - self.started_at >= HEALTHY_RUN_SECONDS:
            self.delay = FIRST_RESTART_SECONDS
        wait, self.delay = self.delay, min(self.delay * 2, MAX_RESTART_SECONDS)
        self.due_at = now + wait
        return wait

    def is_due(self) -> bool:
        return self.due_at is not None and time.monotonic() >= self.due_at

    def started(self) -> None:
        self.started_at, self.due_at = time.monotonic(), None


@dataclass
class Child:
    name: str
    cmd: list[str]
    env: dict[str, str]  # shared by all children; the broker's address is added to it before they start
    port: int  # where it answers GET /health
    checked: bool = False  # its /health is polled, and failing checks restart it (the workers)
    process: subprocess.Popen | None = None
    restarts: Restarts = field(default_factory=Restarts)
    failures: int = 0
    answered: bool = False  # /health said 200 at least once since the last start
    kill_at: float | None = None  # asked to stop for failing checks; SIGKILL then if still there
    port_variable: str = ""  # the variable that moves it to another port

    def __post_init__(self) -> None:
        if not self.port_variable:
            self.port_variable = self.name.replace("-api", "_PORT").replace("-worker", "_WORKER_PORT").upper()

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/health"

    @property
    def log_path(self) -> Path:
        return LOG_DIR / f"{self.name}.log"

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )  # Ctrl-C reaches only the launcher
        self.restarts.started()
        self.failures, self.answered, self.kill_at = 0, False, None

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.health_url, timeout=2) as response:
                return response.status == 200
        except OSError:  # refused, timed out, or an HTTP error status (urllib raises those too)
            return False


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)  # until _supervise takes over: SIGTERM stops what started, as Ctrl-C
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if not env.get("JWT_SECRET") and not env.get("JWT_PUBLIC_KEY"):
        env["JWT_SECRET"] = dev_jwt_secret()  # made once under var/, so `make token` signs with the same key
    demo.prepare(env)  # DEMO=1: the demo programme's settings
    children = _children(env)
    _refuse_taken_ports(children)
    broker: TansuBroker | None = None
    try:
        broker = _start_broker(env)
        for service in SERVICES:
            _run_checked([sys.executable, "-m", f"services.{service}", "migrate"], env, f"{service}-migrate")
        for child in children:
            child.start()
        return _supervise(children, broker, env)
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(children)
        if broker is not None:
            broker.stop()
        print("Assay stopped.", flush=True)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _children(env: dict[str, str]) -> list[Child]:
    children, upstreams = [], []
    for service, default in SERVICES.items():
        api_port = int(env.get(f"{service.upper()}_PORT", default))
        worker_port = int(env.get(f"{service.upper()}_WORKER_PORT", WORKER_PORTS[service]))
        env[f"{service.upper()}_WORKER_PORT"] = str(worker_port)
        run = [sys.executable, "-m", f"services.{service}"]
        children.append(Child(f"{service}-api", [*run, "api", "--port", str(api_port)], env, api_port))
        children.append(Child(f"{service}-worker", [*run, "worker"], env, worker_port, checked=True))
        upstreams += ["--upstream", f"{service}=http://127.0.0.1:{api_port}"]
    gateway_port = int(env.get("GATEWAY_PORT", GATEWAY_PORT))
    gateway = [sys.executable, "-m", "deploy.gateway", "--port", str(gateway_port), *upstreams]
    children.append(Child("gateway", gateway, env, gateway_port, port_variable="GATEWAY_PORT"))
    return children


def _refuse_taken_ports(children: list[Child]) -> None:
    for child in children:
        if not _taken(child.port):
            continue
        raise SystemExit(f"port {child.port} ({child.name}) is taken: stop what uses it, or set {child.port_variable}")


def _taken(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _start_broker(env: dict[str, str]) -> TansuBroker | None:
    if env.get("KAFKA_BOOTSTRAP_SERVERS"):
        return None
    port = int(env.get("KAFKA_PORT", "9092"))
    if _taken(port):
        raise SystemExit(f"port {port} is taken: stop what uses it, or set KAFKA_PORT or KAFKA_BOOTSTRAP_SERVERS")
    broker = TansuBroker(port=port, log_path=LOG_DIR / "broker.log").start()
    env["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap
    env["KAFKA_BROKER_FORGETS"] = "true"  # it keeps its log in memory: relays refill it after a restart
    return broker


def _run_checked(cmd: list[str], env: dict[str, str], name: str) -> None:
    with open(LOG_DIR / f"{name}.log", "ab") as log:
        if subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT).returncode != 0:
            raise SystemExit(f"{name} failed; see {LOG_DIR / (name + '.log')}")


def _supervise(children: list[Child], broker: TansuBroker | None, env: dict[str, str]) -> int:
    stopping: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stopping.append(signum))
    started, announced, last_check = time.monotonic(), False, 0.0
    broker_restarts = Restarts()
    while not stopping:
        if broker is not None:
            _keep_broker(broker, broker_restarts)
        for child in children:
            _keep_running(child)
        if not announced and (all(c.healthy() for c in children) or time.monotonic() - started > STARTUP_SECONDS):
            _announce(children, env, broker)
            announced = True
            demo.launch(env)  # DEMO=1: loads the demo programme once, alongside
        if time.monotonic() - last_check >= CHECK_EVERY_SECONDS:
            last_check = time.monotonic()
            for child in children:
                if child.checked:
                    _check(child)
        time.sleep(0.5)
    return 0


def _keep_running(child: Child) -> None:
    if child.process is not None and child.process.poll() is not None:
        code = child.process.returncode
        child.process = None
        wait = child.restarts.died()
        print(
            f"{child.name} exited with code {code}; restarting in {wait:.0f}s (log: {child.log_path})",
            file=sys.stderr,
            flush=True,
        )
    if child.process is None and child.restarts.is_due():
        child.start()
    if child.kill_at is not None and child.process is not None and time.monotonic() >= child.kill_at:
        child.process.kill()


def _check(child: Child) -> None:
    if child.process is None or child.kill_at is not None:
        return
    if child.healthy():
        child.failures, child.answered = 0, True
        return
    if not child.answered and time.monotonic() - child.restarts.started_at < STARTUP_GRACE_SECONDS:
        return
    child.failures += 1
    if child.failures >= FAILED_CHECKS:
        print(
            f"{child.name} failed {child.failures} health checks in a row ({child.health_url}); restarting",
            file=sys.stderr,
            flush=True,
        )
        child.process.terminate()
        child.kill_at = time.monotonic() + 10  # a hung worker may ignore SIGTERM


def _keep_broker(broker: TansuBroker, restarts: Restarts) -> None:
    process = broker.process
    if process is not None and process.poll() is not None:
        broker.process = None
        wait = restarts.died()
        print(
            f"broker exited with code {process.returncode}; restarting on port {broker.port} in {wait:.0f}s",
            file=sys.stderr,
            flush=True,
        )
    if broker.process is None and restarts.is_due():
        try:
            broker.start()
            restarts.started()
        except (OSError, TimeoutError) as exc:
            broker.stop(kill=True)
            wait = restarts.died()
            print(f"broker did not start ({exc}); retrying in {wait:.0f}s", file=sys.stderr, flush=True)


def _announce(children: list[Child], env: dict[str, str], broker: TansuBroker | None) -> None:
    print("\nAssay is running:")
    gateway = next(c for c in children if c.name == "gateway").health_url.removesuffix("/health")
    print(f"  entry point   {gateway}   /kyc /incidents /traceability /scoring   docs {gateway}/docs")
    print(f"  events        {gateway}/asyncapi")
    for service in SERVICES:
        api, worker = (next(c for c in children if c.name == f"{service}-{kind}") for kind in ("api", "worker"))
        base = api.health_url.removesuffix("/health")
        print(f"  {service:<13} {base}   docs {base}/docs   worker {worker.health_url}")
    where = "embedded Tansu, restarted if it dies" if broker else "external"
    print(f"  broker        {env['KAFKA_BOOTSTRAP_SERVERS']} ({where})")
    print(f"  logs          {LOG_DIR}/")
    print("  token         make token ARGS='--org my-org --roles admin'")
    unhealthy = [c.name for c in children if not c.healthy()]
    if unhealthy:
        print(f"  not healthy yet: {', '.join(unhealthy)} (see their logs; they are restarted until they are)")
    print(f"Ctrl-C stops everything; data stays under {VAR_DIR}/ for the next run.\n", flush=True)


def _stop(children: list[Child]) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):  # a second Ctrl-C must not cut the shutdown short
        signal.signal(sig, signal.SIG_IGN)
    running = [c.process for c in children if c.process is not None and c.process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    sys.exit(main())
