"""Schemathesis over the traceability OpenAPI on PostgreSQL: every check, examples, coverage, fuzzing
and stateful phases. No operation may answer a server error, break its schema, accept what it declares invalid or
reject what it declares valid. `SCHEMATHESIS_EXAMPLES` / `SCHEMATHESIS_STEPS` make the run larger (`make soak`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events

from services.traceability.main import create_app
from tests.traceability.support import ORG, approved_actor, site
from tests.traceability.test_custody import issue, new_lot

# Sized for `make test` on a 2-core machine (the whole run well under 90 s); `make soak` sets larger ones.
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))
STEPS = int(os.environ.get("SCHEMATHESIS_STEPS", "5"))
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20261201"))


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


async def test_no_operation_breaks_its_contract_under_every_phase(stack):
    if not stack.database_urls["traceability"].startswith("postgresql"):
        pytest.skip("needs PostgreSQL: SQLite does not enforce column lengths, which is half of what this finds")
    token = stack.token(org=ORG, roles=("admin", "analyst"))
    known_ids = await _arrange(stack, stack.client("traceability", token))
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {token}"},
            # Every check. A schema-valid request may still break a domain rule the schema cannot say (an ISO code
            # that does not exist, dates out of order, sharing with oneself, a file that is not what it claims):
            # that is a 422 (or 413/415 for files) with a stable code, never a 400.
            "checks": {
                "enabled": True,
                "positive_data_acceptance": {
                    # 428: the version a change needs may come in the body or as If-Match, which a schema
                    # cannot require as "one of the two"; its absence is 428 version_required
                    "expected-statuses": ["2XX", "3XX", 401, 403, 404, 409, 413, 415, 422, 428, 429]
                },
            },
            "generation": {"max-examples": EXAMPLES, "deterministic": True},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": True, "max-steps": STEPS},
            },
            "parameters": {name: value for name, value in known_ids.items()},
            "suppress-health-check": ["all"],
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(stack.settings("traceability")), config=config)
    # OPTIONS is declared on every path only to say it is a 405 (tests/common/test_platform_api.py checks that).
    schema = schema.exclude(method="OPTIONS")

    found = list(_failures(schemathesis.engine.from_schema(schema).execute()))

    assert not found, (
        f"{len(found)} failure(s):\n" + "\n".join(f.summary() for f in found) + "\n\n" + "\n\n".join(map(str, found))
    )


async def _arrange(stack, client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A real site, actor and lot: path parameters point at them, so bodies reach the domain rules."""
    site_id, miner = await site(stack), await approved_actor(stack, "miner")
    await issue(client, site_id, "F-")
    lot = (await new_lot(client, site_id, miner, "F-1")).json()
    return {"lot_id": lot["lot_id"], "actor_id": str(miner)}


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
