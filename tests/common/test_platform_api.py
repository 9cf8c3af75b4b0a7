"""What every service answers the same way: health, readiness, metrics, docs, auth and problem+json errors."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from libs.common.auth import issue_token
from libs.common.events.kyc import ActorState
from services.traceability import use_cases

SERVICES = ["kyc", "incidents", "traceability", "scoring"]


@pytest.mark.parametrize("service", SERVICES)
async def test_health_and_ready_answer_without_a_token(stack, service):
    client = stack.client(service)

    health, ready = await client.get("/health"), await client.get("/ready")

    assert health.status_code == 200 and health.json()["service"] == service
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": True, "broker": True}


async def test_ready_reports_an_unreachable_broker(stack):
    client = stack.client("traceability", kafka_bootstrap_servers="127.0.0.1:1")

    response = await client.get("/ready")

    assert response.status_code == 503 and response.json()["checks"]["broker"] is False


@pytest.mark.parametrize("service", SERVICES)
async def test_metrics_need_a_token_and_docs_work_offline(stack, service):
    anonymous, authorised = stack.client(service), stack.client(service, stack.token())

    assert (await anonymous.get("/metrics")).status_code == 401
    metrics = await authorised.get("/metrics")
    docs = await anonymous.get("/docs")
    asset = await anonymous.get("/docs-assets/swagger-ui-bundle.js")

    assert metrics.status_code == 200 and "assay_http_requests_total" in metrics.text
    assert docs.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text
    assert asset.status_code == 200
    assert (await anonymous.get("/openapi.json")).json()["components"]["securitySchemes"]


async def test_requests_without_a_valid_token_are_refused_with_problem_json(stack):
    settings = stack.settings("traceability")
    expired = issue_token(
        settings, user_id="u", org_id="org-a", org_kind="operator", roles=["admin"], ttl=timedelta(seconds=-5)
    )
    foreign_issuer = issue_token(
        settings.model_copy(update={"jwt_issuer": "someone-else"}),
        user_id="u",
        org_id="org-a",
        org_kind="operator",
        roles=["admin"],
    )
    wrong_key = issue_token(
        settings,
        user_id="u",
        org_id="org-a",
        org_kind="operator",
        roles=["admin"],
        signing_key="not-the-key-the-services-trust-0123456789",
    )
    for token, code in [
        (None, "missing_token"),
        ("garbage", "invalid_token"),
        (expired, "invalid_token"),
        (foreign_issuer, "invalid_token"),
        (wrong_key, "invalid_token"),
    ]:
        response = await stack.client("traceability", token).get("/known-actors")

        assert response.status_code == 401, token
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == code


async def test_another_organisations_record_answers_404(stack):
    actor_id = uuid4()
    async with stack.sessions("traceability")() as db, db.begin():
        await use_cases.record_actor(
            db,
            ActorState(
                actor_id=actor_id,
                org_id="org-a",
                kyc_status="approved",
                legal_name="Coopérative Minière de Kamituga",
                actor_type="cooperative",
                country="CD",
            ),
            version=1,
        )

    own = await stack.client("traceability", stack.token(org="org-a")).get(f"/known-actors/{actor_id}")
    foreign = await stack.client("traceability", stack.token(org="org-b")).get(f"/known-actors/{actor_id}")
    listing = await stack.client("traceability", stack.token(org="org-b")).get("/known-actors")

    assert own.status_code == 200 and own.json()["kyc_status"] == "approved"
    assert foreign.status_code == 404 and foreign.json()["code"] == "not_found"
    assert listing.json() == []


async def test_bad_input_and_unknown_routes_answer_problem_json_with_stable_codes(stack):
    client = stack.client("traceability", stack.token())

    bad_id = await client.get("/known-actors/not-a-uuid")
    bad_query = await client.get("/known-actors", params={"limit": 0, "status": "nonsense"})
    no_route = await client.get("/no-such-thing")
    wrong_method = await client.delete("/known-actors")

    assert bad_id.status_code == 422 and bad_id.json()["code"] == "validation_error"
    assert {tuple(e["loc"]) for e in bad_query.json()["errors"]} == {("query", "limit"), ("query", "status")}
    assert no_route.status_code == 404 and no_route.json()["code"] == "not_found"
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "method_not_allowed"
    for response in (bad_id, bad_query, no_route, wrong_method):
        assert response.headers["content-type"] == "application/problem+json"
        assert {"type", "title", "status", "detail", "code"} <= set(response.json())


async def test_a_wrong_method_lists_every_method_of_the_path_in_allow(stack):
    client = stack.client("kyc", stack.token())

    table = await client.delete("/risk-areas")
    actor = await client.options("/actors/3fa85f64-5717-4562-b3fc-2c963f66afa6")

    assert (table.status_code, table.headers["allow"]) == (405, "GET, PUT")  # two routes, one path
    assert (actor.status_code, actor.headers["allow"]) == (405, "GET, PATCH")


@pytest.mark.parametrize("service", SERVICES)
async def test_the_openapi_declares_the_401_of_metrics_and_the_405_of_options_on_every_path(stack, service):
    client = stack.client(service)
    schema = (await client.get("/openapi.json")).json()

    metrics = schema["paths"]["/metrics"]["get"]["responses"]
    assert metrics["401"]["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
    for path, operations in schema["paths"].items():
        options = operations["options"]["responses"]["405"]
        assert "Allow" in options["headers"], path
        assert "application/problem+json" in options["content"], path
    answered = await client.options("/metrics")
    assert answered.status_code == 405 and answered.headers["content-type"] == "application/problem+json"
    assert answered.json()["code"] == "method_not_allowed" and "GET" in answered.headers["allow"]


async def test_options_names_every_method_the_path_offers(stack):
    response = await stack.client("kyc").options("/actors")

    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST"}
