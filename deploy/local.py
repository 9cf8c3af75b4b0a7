"""`make run`: the whole platform on this machine — broker, migrations, four APIs and four workers; Ctrl-C stops it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from libs.common.devservers import TansuBroker, wait_for_port
from libs.common.settings import VAR_DIR, dev_jwt_secret

SERVICES = {"kyc": 8001, "incidents": 8002, "traceability": 8003, "scoring": 8004}
LOG_DIR = VAR_DIR / "log"


def main() -> int:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if not env.get("JWT_SECRET") and not env.get("JWT_PUBLIC_KEY"):
        env["JWT_SECRET"] = dev_jwt_secret()  # made once under var/, so `make token` signs with the same key
    broker = _start_broker(env)
    children: list[subprocess.Popen] = []
    try:
        for service in SERVICES:
            _run_checked([sys.executable, "-m", f"services.{service}", "migrate"], env, f"{service}-migrate")
        for service, port in SERVICES.items():
            port = int(env.get(f"{service.upper()}_PORT", port))
            children.append(_spawn([sys.executable, "-m", f"services.{service}", "api", "--port", str(port)],
                                   env, f"{service}-api"))
            children.append(_spawn([sys.executable, "-m", f"services.{service}", "worker"], env, f"{service}-worker"))
        _wait_healthy(env)
        _announce(env, broker)
        return _supervise(children)
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(children)
        if broker is not None:
            broker.stop()
        print("Assay stopped.")


def _start_broker(env: dict[str, str]) -> TansuBroker | None:
    if env.get("KAFKA_BOOTSTRAP_SERVERS"):
        return None
    port = int(env.get("KAFKA_PORT", "9092"))
    try:
        wait_for_port(port, timeout=0.2)
        raise SystemExit(f"port {port} is taken: stop what uses it, or set KAFKA_PORT or KAFKA_BOOTSTRAP_SERVERS")
    except TimeoutError:
        pass
    broker = TansuBroker(port=port, log_path=LOG_DIR / "broker.log").start()
    env["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap
    return broker


def _run_checked(cmd: list[str], env: dict[str, str], name: str) -> None:
    with open(LOG_DIR / f"{name}.log", "ab") as log:
        if subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT).returncode != 0:
            raise SystemExit(f"{name} failed; see {LOG_DIR / (name + '.log')}")


def _spawn(cmd: list[str], env: dict[str, str], name: str) -> subprocess.Popen:
    log = open(LOG_DIR / f"{name}.log", "ab")
    process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    process.name = name  # type: ignore[attr-defined]
    return process


def _wait_healthy(env: dict[str, str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    for service, port in SERVICES.items():
        url = f"http://127.0.0.1:{env.get(f'{service.upper()}_PORT', port)}/health"
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{service} did not answer {url} within {timeout:.0f}s; see {LOG_DIR}")
            time.sleep(0.2)


def _announce(env: dict[str, str], broker: TansuBroker | None) -> None:
    print("\nAssay is running:")
    for service, port in SERVICES.items():
        base = f"http://127.0.0.1:{env.get(f'{service.upper()}_PORT', port)}"
        print(f"  {service:<13} {base}   docs {base}/docs")
    where = "embedded Tansu" if broker else "external"
    print(f"  broker        {env['KAFKA_BOOTSTRAP_SERVERS']} ({where})")
    print(f"  logs          {LOG_DIR}/")
    print("  token         make token ARGS='--org my-org --roles admin'")
    print("Ctrl-C stops everything; data stays under var/ for the next run.\n", flush=True)


def _supervise(children: list[subprocess.Popen]) -> int:
    stopping: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stopping.append(signum))
    while not stopping:
        for child in children:
            if child.poll() is not None:
                name = child.name  # type: ignore[attr-defined]
                print(f"{name} exited with {child.returncode}; last lines of its log:", file=sys.stderr)
                lines = (LOG_DIR / f"{name}.log").read_text(errors="replace").splitlines()[-15:]
                print("\n".join(lines), file=sys.stderr)
                return 1
        time.sleep(0.5)
    return 0


def _stop(children: list[subprocess.Popen]) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):  # a second Ctrl-C must not cut the shutdown short
        signal.signal(sig, signal.SIG_IGN)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()


if __name__ == "__main__":
    sys.exit(main())
