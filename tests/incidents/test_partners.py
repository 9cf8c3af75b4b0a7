"""Partners and the operator's programme (README, incidents: "Partners"): a partner system is a principal of the
operator's organisation (its token carries the programme's org_id, org_kind `partner`). Its reports go to that
programme; it receives that programme's incidents through the subscriptions of that programme, and no other's."""

from __future__ import annotations

from typing import Any

from libs.common.events import incidents as events
from services.incidents.webhooks.handlers import on_incident_event
from tests.incidents.steps import outbox, report_body
from tests.incidents.webhooks.receiver import Receiver
from tests.incidents.webhooks.test_webhooks import DEV, deliver_until


async def test_a_partners_report_goes_to_the_programme_its_token_names(stack: Any) -> None:
    # The demo's partner token: org = the operator's programme, kind partner, role analyst.
    partner = stack.client("incidents", stack.token(org="org-a", kind="partner", roles=("analyst",), user="pat"))
    operator = stack.client("incidents", stack.token(org="org-a", kind="operator", roles=("analyst",)))
    elsewhere = stack.client("incidents", stack.token(org="org-b", kind="operator", roles=("analyst",)))

    response = await partner.post("/incidents", json=report_body())

    assert response.status_code == 201, response.text
    incident = response.json()
    assert incident["source"] == "partner"  # by the token's kind, not only by the `partner` role
    seen = await operator.get(f"/incidents/{incident['id']}")
    assert (seen.status_code, seen.json()["source"]) == (200, "partner")
    assert (await elsewhere.get(f"/incidents/{incident['id']}")).status_code == 404


async def test_a_partner_never_manages_the_operators_incidents_whatever_its_roles(stack: Any) -> None:
    partner = stack.client("incidents", stack.token(org="org-a", kind="partner", roles=("analyst", "admin")))
    operator = stack.client("incidents", stack.token(org="org-a", kind="operator", roles=("analyst",)))
    incident = (await operator.post("/incidents", json=report_body())).json()

    refused = await partner.post(f"/incidents/{incident['id']}/triage")

    assert (refused.status_code, refused.json()["code"]) == (403, "operator_only")
    assert (await operator.get(f"/incidents/{incident['id']}")).json()["status"] == "reported"
    assert (await operator.post(f"/incidents/{incident['id']}/triage")).status_code == 200


async def test_a_partner_subscribed_in_the_programme_receives_the_operators_incidents(stack: Any) -> None:
    ours, theirs = Receiver(), Receiver()
    try:
        for org, receiver in (("org-a", ours), ("org-b", theirs)):
            admin = stack.client("incidents", stack.token(org=org, kind="partner", roles=("admin",)), **DEV)
            created = await admin.post("/webhooks/subscriptions", json={"url": receiver.url, "tier": "member"})
            assert created.status_code == 201, created.text
            receiver.secret = created.json()["secret"]
        operator = stack.client("incidents", stack.token(org="org-a", kind="operator", roles=("analyst",)))
        reported = (await operator.post("/incidents", json=report_body())).json()

        # The worker's consumer reads the operator's IncidentReported from incidents.events.
        [row] = await outbox(stack)
        async with stack.sessions("incidents")() as db, db.begin():
            await on_incident_event(db, events.IncidentReported.model_validate_json(row.payload))
        await deliver_until(stack, lambda: len(ours.received) >= 1)

        [got] = ours.received
        assert got.verified and got.body["data"]["incident"]["incident_id"] == reported["id"]
        assert theirs.received == []  # a partner of another programme never sees it
    finally:
        ours.close()
        theirs.close()


async def test_partners_of_one_programme_never_see_or_touch_each_others_subscriptions(stack: Any) -> None:
    def client(user: str, kind: str = "partner") -> Any:
        return stack.client("incidents", stack.token(org="org-a", kind=kind, roles=("admin",), user=user), **DEV)

    first, second, operator = client("buyer-1"), client("buyer-2"), client("ops", kind="operator")
    receiver = Receiver()
    try:
        created = await first.post("/webhooks/subscriptions", json={"url": receiver.url, "tier": "member"})
    finally:
        receiver.close()
    mine = created.json()
    path = f"/webhooks/subscriptions/{mine['id']}"

    assert [s["id"] for s in (await first.get("/webhooks/subscriptions")).json()["items"]] == [mine["id"]]
    assert (await second.get("/webhooks/subscriptions")).json()["items"] == []
    refused = [
        await second.get(path),
        await second.get(f"{path}/deliveries"),
        await second.post(f"{path}/secret"),
        await second.post(f"{path}/disable"),
        await second.delete(path),
    ]
    assert {(r.status_code, r.json()["code"]) for r in refused} == {(404, "subscription_not_found")}
    assert (await operator.get(path)).status_code == 200  # the operator's staff see every partner's
    assert (await first.get(path)).json()["enabled"] is True
