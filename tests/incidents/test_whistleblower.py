"""Anonymous reports: no login, a follow-up token kept as a hash, no identity in events, no address anywhere."""

from __future__ import annotations

import hashlib
import logging

import sqlalchemy as sa

from services.incidents.tables import ReporterRow
from tests.incidents.steps import outbox, report_body

NAME, CONTACT = "Jeanne Mukamana", "+243 81 555 0199"


def anonymous(**overrides):  # type: ignore[no-untyped-def]
    return report_body(org_id="org-a", reporter_name=NAME, reporter_contact=CONTACT, **overrides)


async def test_a_whistleblower_reports_follows_up_and_reads_the_status_without_login(stack):
    public = stack.client("incidents")
    staff = stack.client("incidents", stack.token(roles=("analyst",)))

    receipt = await public.post("/public/reports", json=anonymous())
    token = receipt.json()["follow_up_token"]
    added = await public.post("/public/reports/information", json={"token": token, "text": "guards are armed"})
    [incident] = (await staff.get("/incidents")).json()["items"]
    await staff.post(f"/incidents/{incident['id']}/triage")
    status = await public.post("/public/reports/status", json={"token": token})

    assert receipt.status_code == 201 and len(token) >= 40
    assert added.status_code == 200
    assert status.json()["status"] == "triage" and status.json()["reference"] == incident["reference"]
    assert incident["source"] == "whistleblower"
    timeline = (await staff.get(f"/incidents/{incident['id']}/timeline")).json()
    assert any(e["kind"] == "reporter_information" for e in timeline)


async def test_the_token_is_stored_only_as_its_hash_and_a_wrong_one_is_not_found(stack):
    public = stack.client("incidents")
    token = (await public.post("/public/reports", json=anonymous())).json()["follow_up_token"]

    async with stack.engine("incidents").connect() as conn:
        [row] = (await conn.execute(sa.select(ReporterRow.__table__))).all()
    wrong = await public.post("/public/reports/status", json={"token": "x" * 43})

    assert row.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(tuple(row))
    assert (wrong.status_code, wrong.json()["code"]) == (404, "unknown_token")


async def test_identity_is_for_the_incident_team_only_and_never_in_events(stack):
    public = stack.client("incidents")
    team = stack.client("incidents", stack.token(roles=("incident_team",)))
    analyst = stack.client("incidents", stack.token(roles=("analyst",)))
    await public.post("/public/reports", json=anonymous())
    [incident] = (await team.get("/incidents")).json()["items"]
    await team.post(f"/incidents/{incident['id']}/triage")

    seen = await team.get(f"/incidents/{incident['id']}/reporter")
    refused = await analyst.get(f"/incidents/{incident['id']}/reporter")

    assert seen.json() == {"name": NAME, "contact": CONTACT}
    assert refused.status_code == 403
    assert NAME not in str(incident) and CONTACT not in str(incident)
    for row in await outbox(stack):
        assert NAME not in row.payload and CONTACT not in row.payload


async def test_public_intake_is_rate_limited_and_keeps_no_address(stack, caplog):
    public = stack.client("incidents", incidents_public_rate_per_minute=2)

    with caplog.at_level(logging.DEBUG):
        answers = [(await public.post("/public/reports", json=anonymous())).status_code for _ in range(3)]

    assert answers == [201, 201, 429]
    client_host = "127.0.0.1"  # httpx's ASGI transport reports this address
    assert all(client_host not in record.getMessage() for record in caplog.records)
    async with stack.engine("incidents").connect() as conn:
        for table in ("incident", "reporter", "timeline_entry", "outbox_message"):
            rows = (await conn.execute(sa.text(f"SELECT * FROM {table}"))).all()
            assert client_host not in str(rows)
