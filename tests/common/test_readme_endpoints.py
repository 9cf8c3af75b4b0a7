"""The README lists every HTTP endpoint of every service (method and path), so it stays true as routes change.

`python -m tests.common.test_readme_endpoints` prints the tables the README holds, generated from the apps' routes."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

SERVICES = ("kyc", "incidents", "traceability", "scoring")
README = Path(__file__).resolve().parents[2] / "README.md"


def endpoints(service: str) -> list[tuple[str, str, str]]:
    """(method, path, summary) of every operation the service's app serves, in the order of its OpenAPI paths.
    OPTIONS is declared on every path only to say it answers 405 (the README says so once, not per path)."""
    app = importlib.import_module(f"services.{service}.main").create_app()
    return [
        (method.upper(), path, operation.get("summary") or "")
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
        if method != "options"
    ]


def row(method: str, path: str, summary: str) -> str:
    return f"| {method} | `{path}` | {summary} |"


def table(service: str) -> str:
    return "\n".join(["| method | path | what it does |", "|---|---|---|", *(row(*e) for e in endpoints(service))])


@pytest.mark.parametrize("service", SERVICES)
def test_the_readme_lists_every_endpoint_of_the_service(service: str) -> None:
    text = README.read_text(encoding="utf-8")

    missing = [e for e in endpoints(service) if f"| {e[0]} | `{e[1]}` |" not in text]

    assert not missing, f"README.md lacks these {service} endpoints:\n" + "\n".join(row(*e) for e in missing)


if __name__ == "__main__":
    for name in SERVICES:
        print(f"\n### {name}\n\n{table(name)}")
