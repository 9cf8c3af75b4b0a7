"""Schemathesis over the KYC OpenAPI on PostgreSQL: every check, the examples, coverage (boundary values), fuzzing
and stateful phases. No operation may answer a server error, break its schema, accept what it declares invalid or
reject what it declares valid. `SCHEMATHESIS_EXAMPLES` / `SCHEMATHESIS_STEPS` make the run larger (`make soak`)."""

from __future__ import annotations

import pytest

from services.kyc.main import create_app
from tests.kyc.screening_steps import add_person, hits, imported, register_actor, run_screening
from tests.kyc.watchlist_files import UN_LIST
from tests.support import contracts


async def test_no_operation_breaks_its_contract_under_every_phase(stack):
    if not stack.database_urls["kyc"].startswith("postgresql"):
        pytest.skip("needs PostgreSQL: SQLite does not enforce column lengths, which is half of what this finds")
    token = stack.token(roles=("admin", "analyst"))
    known_ids = await _register(stack, stack.client("kyc", token))
    found = contracts.breaches(create_app(stack.settings("kyc")), token=token, parameters=known_ids)

    assert not found, contracts.report(found)


async def _register(stack, client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A real actor, person, list and hit: path parameters point at them, so bodies reach the domain rules."""
    watchlist = await imported(client, UN_LIST)
    actor = await register_actor(client, "Great Lakes Mining Company")
    person = await add_person(client, actor["id"], "Viktor Kazantsev")
    await run_screening(stack)
    [hit, *_] = await hits(client)
    return {"actor_id": actor["id"], "person_id": person["id"], "watchlist_id": watchlist["id"], "hit_id": hit["id"]}
