"""A schemathesis run over the KYC OpenAPI: no operation answers a server error or a response its schema forbids."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from services.kyc.main import create_app
from tests.kyc.screening_steps import (
    add_person,
    hits,
    imported,
    register_actor,
    run_screening,
)
from tests.kyc.watchlist_files import UN_LIST

EXAMPLES = 8  # per operation and pass: the whole run stays well under two minutes
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.mark.parametrize("ids", ["generated", "existing"])
async def test_no_operation_answers_a_server_error_or_breaks_its_schema(stack, ids):
    """Generated path ids mostly meet 404s; the second pass points them at a real actor, person, list and hit, so
    the generated bodies reach the domain rules."""
    token = stack.token(roles=("admin", "analyst"))
    known = await _register(stack, stack.client("kyc", token)) if ids == "existing" else {}
    # An engine of its own: schemathesis calls the app from its own event loop, in another thread.
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(stack.settings("kyc")))

    failures = [f"{label}: {error}" for label, error in _run(schema, {"Authorization": f"Bearer {token}"}, known)]

    assert not failures, "\n\n".join(failures)


async def _register(stack, client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    watchlist = await imported(client, UN_LIST)
    actor = await register_actor(client, "Great Lakes Mining Company")
    person = await add_person(client, actor["id"], "Viktor Kazantsev")
    await run_screening(stack)
    [hit, *_] = await hits(client)
    return {"actor_id": actor["id"], "person_id": person["id"], "watchlist_id": watchlist["id"], "hit_id": hit["id"]}


def _run(schema, headers: dict[str, str], known: dict[str, str]) -> Iterator[tuple[str, Exception]]:  # type: ignore[no-untyped-def]
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case) -> None:  # type: ignore[no-untyped-def]
            for name in set(case.path_parameters or {}) & set(known):
                case.path_parameters[name] = known[name]
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            check()
        except Exception as exc:  # noqa: BLE001  (every operation's failure, not just the first)
            yield operation.label, exc
