"""Schemathesis over the incidents OpenAPI on PostgreSQL (as tests/kyc/test_schemathesis.py): no server error, no
response that breaks its schema, nothing accepted that is declared invalid or refused that is declared valid."""

from __future__ import annotations

import pytest

from services.incidents.main import create_app
from tests.incidents.steps import report_body
from tests.support import contracts


async def test_no_operation_breaks_its_contract_under_every_phase(stack):
    if not stack.database_urls["incidents"].startswith("postgresql"):
        pytest.skip("needs PostgreSQL: SQLite does not enforce column lengths")
    token = stack.token(roles=("admin", "incident_team"))
    client = stack.client("incidents", token)
    incident = (await client.post("/incidents", json=report_body())).json()
    app = create_app(stack.settings("incidents", incidents_public_rate_per_minute=100_000))
    found = contracts.breaches(
        app,
        token=token,
        parameters={"incident_id": incident["id"]},
        accepted=["2XX", "3XX", 401, 403, 404, 409, 413, 415, 422, 429],
    )

    assert not found, contracts.report(found)
