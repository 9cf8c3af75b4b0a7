"""Schemathesis over one service's OpenAPI, as every service's test_schemathesis.py runs it: every check, the
examples, coverage (boundary values), fuzzing and stateful phases. `SCHEMATHESIS_EXAMPLES` / `SCHEMATHESIS_STEPS`
make the run larger (`make soak`), `SCHEMATHESIS_SEED` replays another."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import schemathesis
from fastapi import FastAPI
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events

# Sized for `make test` on a 2-core machine (each service's run well under 90 s); `make soak` sets larger ones.
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))
STEPS = int(os.environ.get("SCHEMATHESIS_STEPS", "5"))
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20261201"))

# A schema-valid request may still break a domain rule the schema cannot say (an ISO code that does not exist, dates
# out of order, a file that is not what it claims): that is a 422 (or 413/415 for files) with a stable code, never a
# 400. 428: the version a change needs may come in the body or as If-Match, which a schema cannot require as "one of
# the two"; its absence is 428 version_required.
ACCEPTED = ("2XX", "3XX", 401, 403, 404, 409, 413, 415, 422, 428, 429)


@dataclass(frozen=True)
class Found:
    phase: str
    operation: str
    check: str
    title: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.phase}] {self.operation} — {self.check}: {self.title}\n{self.detail}"

    def summary(self) -> str:
        return f"[{self.phase}] {self.operation} — {self.check}: {self.title}"


def breaches(
    app: FastAPI, *, token: str, parameters: Mapping[str, str], accepted: Sequence[str | int] = ACCEPTED
) -> list[Found]:
    """Every failed check and error of a run over `app`, authenticated with `token`; path parameters named in
    `parameters` point at real rows, so bodies reach the domain rules."""
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {token}"},
            "checks": {"enabled": True, "positive_data_acceptance": {"expected-statuses": list(accepted)}},
            "generation": {"max-examples": EXAMPLES, "deterministic": True},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": True, "max-steps": STEPS},
            },
            "parameters": dict(parameters),
            "suppress-health-check": ["all"],
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    # OPTIONS is declared on every path only to say it is a 405 (tests/common/test_platform_api.py checks that).
    schema = schema.exclude(method="OPTIONS")
    return list(_failures(schemathesis.engine.from_schema(schema).execute()))


def report(found: Sequence[Found]) -> str:
    return f"{len(found)} failure(s):\n" + "\n".join(f.summary() for f in found) + "\n\n" + "\n\n".join(map(str, found))


def _failures(stream: Iterator[events.EngineEvent]) -> Iterator[Found]:
    for event in stream:
        if isinstance(event, events.ScenarioFinished) and event.status == Status.FAILURE:
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        yield Found(
                            str(event.phase),
                            event.recorder.label,
                            check.name,
                            failure.title,
                            (failure.message or "")[:400] + "\n" + check.failure_info.code_sample[:600],
                        )
        elif isinstance(event, events.NonFatalError):
            yield Found(str(event.phase), event.label, "error", type(event.value).__name__, str(event.value)[:600])
        elif isinstance(event, events.FatalError):
            raise event.exception
