"""Schemathesis over the scoring OpenAPI on PostgreSQL: every check, the examples, coverage (boundary values), fuzzing
and stateful phases. No operation may answer a server error, break its schema, accept what it declares invalid or
reject what it declares valid. `SCHEMATHESIS_EXAMPLES` / `SCHEMATHESIS_STEPS` make the run larger (`make soak`)."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.scoring.main import create_app
from tests.scoring.support import all_met, draft, submitted
from tests.support import contracts


async def test_no_operation_breaks_its_contract_under_every_phase(stack):
    if not stack.database_urls["scoring"].startswith("postgresql"):
        pytest.skip("needs PostgreSQL: SQLite does not enforce column lengths, which is half of what this finds")
    token = stack.token(roles=("admin", "analyst"))
    known_ids = await _known(stack.client("scoring", token))
    found = contracts.breaches(create_app(stack.settings("scoring")), token=token, parameters=known_ids)

    assert not found, contracts.report(found)


async def _known(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A draft and a submitted assessment of one subject: path parameters point at them, so bodies reach the rules."""
    subject = str(uuid4())
    first = await submitted(client, subject, all_met(**{"4.2": "not_met"}))
    second = await draft(client, subject_id=subject)
    return {
        "assessment_id": second["id"],
        "first_id": first["id"],
        "second_id": second["id"],
        "code": "craft",
        "version": "2.0",
        "subject_id": subject,
        "framework": "craft",
    }
