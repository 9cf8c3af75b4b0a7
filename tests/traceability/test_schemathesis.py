"""Schemathesis over the traceability OpenAPI on PostgreSQL: every check, examples, coverage, fuzzing
and stateful phases. No operation may answer a server error, break its schema, accept what it declares invalid or
reject what it declares valid. `SCHEMATHESIS_EXAMPLES` / `SCHEMATHESIS_STEPS` make the run larger (`make soak`)."""

from __future__ import annotations

import pytest

from services.traceability.main import create_app
from tests.support import contracts
from tests.traceability.support import ORG, approved_actor, site
from tests.traceability.test_custody import issue, new_lot


async def test_no_operation_breaks_its_contract_under_every_phase(stack):
    if not stack.database_urls["traceability"].startswith("postgresql"):
        pytest.skip("needs PostgreSQL: SQLite does not enforce column lengths, which is half of what this finds")
    token = stack.token(org=ORG, roles=("admin", "analyst"))
    known_ids = await _arrange(stack, stack.client("traceability", token))
    app = create_app(stack.settings("traceability", public_tag_rate_per_minute=100_000))
    found = contracts.breaches(app, token=token, parameters=known_ids)

    assert not found, contracts.report(found)


async def _arrange(stack, client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A real site, actor and lot: path parameters point at them, so bodies reach the domain rules."""
    site_id, miner = await site(stack), await approved_actor(stack, "miner")
    await issue(client, site_id, "F-")
    lot = (await new_lot(client, site_id, miner, "F-1")).json()
    return {"lot_id": lot["lot_id"], "actor_id": str(miner), "tag": "F-1"}
