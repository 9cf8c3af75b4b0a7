"""Schemathesis over the incidents OpenAPI on PostgreSQL (as tests/kyc/test_schemathesis.py): no server error, no
response that breaks its schema, nothing accepted that is declared invalid or refused that is declared valid."""

from __future__ import annotations

import os

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from services.incidents.main import create_app
from tests.incidents.steps import report_body
from tests.kyc.test_schemathesis import _failures

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))
STEPS = int(os.environ.get("SCHEMATHESIS_STEPS", "5"))
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20261201"))


async def test_no_operation_breaks_its_contract_under_every_phase(stack):
    if not stack.database_urls["incidents"].startswith("postgresql"):
        pytest.skip("needs PostgreSQL: SQLite does not enforce column lengths")
    token = stack.token(roles=("admin", "incident_team"))
    client = stack.client("incidents", token)
    incident = (await client.post("/incidents", json=report_body())).json()
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {token}"},
            "checks": {
                "enabled": True,
                "positive_data_acceptance": {
                    "expected-statuses": ["2XX", "3XX", 401, 403, 404, 409, 413, 415, 422, 429]
                },
            },
            "generation": {"max-examples": EXAMPLES, "deterministic": True},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": True, "max-steps": STEPS},
            },
            "parameters": {"incident_id": incident["id"]},
            "suppress-health-check": ["all"],
        }
    )
    app = create_app(stack.settings("incidents", incidents_public_rate_per_minute=100_000))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config).exclude(method="OPTIONS")

    found = list(_failures(schemathesis.engine.from_schema(schema).execute()))

    assert not found, (
        f"{len(found)} failure(s):\n" + "\n".join(f.summary() for f in found) + "\n\n" + "\n\n".join(map(str, found))
    )
