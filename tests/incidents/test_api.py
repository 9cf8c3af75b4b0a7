"""Intake and lifecycle through the HTTP API: rows and outbox messages out, problems with stable codes."""

from __future__ import annotations

import json

from tests.incidents.steps import outbox, outbox_types, report_body

STAFF = ("analyst",)


async def test_staff_report_shows_the_category_level_and_required_response(stack):
    client = stack.client("incidents", stack.token(roles=STAFF))

    response = await client.post("/incidents", json=report_body())

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["level"], body["required_response"], body["status"], body["source"]) == (
        1,
        "disengage",
        "reported",
        "staff",
    )
    assert body["category_group"] == "annex2_serious_abuse"
    assert await outbox_types(stack) == ["IncidentReported.v1"]


async def test_a_partner_reports_with_its_own_token(stack):
    client = stack.client("incidents", stack.token(org="org-a", kind="partner", roles=("partner",)))

    response = await client.post("/incidents", json=report_body())

    assert response.json()["source"] == "partner"


async def test_unknown_category_and_bad_region_are_problems(stack):
    client = stack.client("incidents", stack.token(roles=STAFF))

    unknown = await client.post("/incidents", json=report_body(category="annex2.nothing"))
    bad_region = await client.post("/incidents", json=report_body(region="RW-01"))

    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_category"
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert bad_region.status_code == 422


async def test_the_full_lifecycle_publishes_every_change_with_versions(stack):
    client = stack.client("incidents", stack.token(roles=STAFF))
    incident = (await client.post("/incidents", json=report_body())).json()
    path = f"/incidents/{incident['id']}"

    for step, body in [
        ("triage", None),
        ("verify", None),
        ("mitigation", {"actions": [{"title": "Suspend purchases", "owner": "bob", "due_date": "2026-12-20"}]}),
    ]:
        assert (await client.post(f"{path}/{step}", json=body)).status_code == 200
    action_id = (await client.get(path)).json()["actions"][0]["id"]
    done = await client.patch(f"{path}/actions/{action_id}", json={"status": "done", "note": "purchases suspended"})
    assert done.status_code == 200
    assert (await client.post(f"{path}/resolve")).status_code == 200
    closed = await client.post(f"{path}/close", json={"outcome": "site suspended from the programme"})

    assert closed.json()["status"] == "closed"
    rows = await outbox(stack)
    assert [r.event_type for r in rows] == [
        "IncidentReported.v1",
        "IncidentTriaged.v1",
        "IncidentVerified.v1",
        "MitigationPlanned.v1",
        "MitigationActionUpdated.v1",
        "IncidentResolved.v1",
        "IncidentClosed.v1",
    ]
    payloads = [json.loads(r.payload) for r in rows]
    assert [p["aggregate_version"] for p in payloads] == [1, 2, 3, 4, 5, 6, 7]
    assert payloads[-1]["incident"]["outcome"] == "site suspended from the programme"
    timeline = (await client.get(f"{path}/timeline")).json()
    assert [e["kind"] for e in timeline][-1] == "closed" and all(e["by"] == "alice" for e in timeline)


async def test_out_of_order_transitions_are_refused_with_stable_codes(stack):
    client = stack.client("incidents", stack.token(roles=STAFF))
    incident = (await client.post("/incidents", json=report_body())).json()
    path = f"/incidents/{incident['id']}"

    closing = await client.post(f"{path}/close", json={"outcome": "x"})
    await client.post(f"{path}/dismiss", json={"reason": "unfounded"})
    planning = await client.post(
        f"{path}/mitigation", json={"actions": [{"title": "t", "owner": "o", "due_date": "2026-12-20"}]}
    )
    bad_reason = await client.post(f"{path}/dismiss", json={"reason": "because"})

    assert (closing.status_code, closing.json()["code"]) == (409, "cannot_close")
    assert (planning.status_code, planning.json()["code"]) == (409, "cannot_plan_mitigation")
    assert (bad_reason.status_code, bad_reason.json()["code"]) == (422, "unknown_resolution_reason")


async def test_escalation_raises_level_and_required_response_and_reopen_works(stack):
    client = stack.client("incidents", stack.token(roles=STAFF))
    incident = (await client.post("/incidents", json=report_body(category="environment.mercury"))).json()
    path = f"/incidents/{incident['id']}"

    escalated = (await client.post(f"{path}/escalate", json={"level": 1, "reason": "armed guards seen"})).json()
    lowering = await client.post(f"{path}/escalate", json={"level": 2, "reason": "x"})
    await client.post(f"{path}/dismiss", json={"reason": "duplicate"})
    reopened = await client.post(f"{path}/reopen", json={"reason": "new evidence"})

    assert (escalated["level"], escalated["required_response"]) == (1, "disengage")
    assert lowering.json()["code"] == "level_not_raised"
    assert reopened.json()["status"] == "triage"


async def test_another_organisation_sees_nothing(stack):
    mine = stack.client("incidents", stack.token(roles=STAFF))
    theirs = stack.client("incidents", stack.token(org="org-b", roles=STAFF))
    incident = (await mine.post("/incidents", json=report_body())).json()

    assert (await theirs.get(f"/incidents/{incident['id']}")).status_code == 404
    assert (await theirs.post(f"/incidents/{incident['id']}/triage")).status_code == 404
    assert (await theirs.get("/incidents")).json()["total"] == 0


async def test_an_operator_extends_the_taxonomy_for_its_organisation(stack):
    admin = stack.client("incidents", stack.token(roles=("admin",)))
    other = stack.client("incidents", stack.token(org="org-b", roles=("admin",)))
    category = {
        "code": "environment.cyanide",
        "group": "environment",
        "name": "Cyanide",
        "level": 2,
        "response": "mitigate",
    }

    assert (await admin.post("/taxonomy/categories", json=category)).status_code == 201
    again = await admin.post("/taxonomy/categories", json=category)
    reported = await admin.post("/incidents", json=report_body(category="environment.cyanide"))
    elsewhere = await other.post("/incidents", json=report_body(category="environment.cyanide"))

    assert (again.status_code, again.json()["code"]) == (409, "category_exists")
    assert reported.json()["level"] == 2
    assert elsewhere.json()["code"] == "unknown_category"


async def test_list_filters_are_checked_before_they_reach_the_database(stack):
    client = stack.client("incidents", stack.token(roles=STAFF))
    await client.post("/incidents", json=report_body())

    by_status = await client.get("/incidents", params={"status": "triage"})
    nul = await client.get("/incidents", params={"category": "annex2\x00"})
    unknown_status = await client.get("/incidents", params={"status": "lost"})

    assert by_status.json()["total"] == 0
    assert (nul.status_code, unknown_status.status_code) == (422, 422)
    assert nul.headers["content-type"].startswith("application/problem+json")
