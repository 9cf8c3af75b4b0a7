"""The review workflow over HTTP: four eyes, screening gates, risk level, review dates, overdue reviews."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

from services.kyc.domain.review import add_months
from services.kyc.tables.register import ActorRow
from tests.kyc.register_support import (
    approved_actor,
    client,
    create_actor,
    history_actions,
    licence_body,
    move,
    outbox_rows,
    outbox_types,
    payloads,
    person_body,
    run_jobs,
    stored,
)

WATCHLIST_CSV = (
    b"id,name,kind,aliases,birth_date,country,identifiers,program\n"
    b"X-1,Comptoir Minier de Goma,organization,,,CD,,sanctions\n"
)


async def submitted_for_review(
    stack,
    *,
    submitter: str = "alice",  # type: ignore[no-untyped-def]
    reviewer: str = "bob",
    **overrides,
):
    creator, approver = client(stack, "analyst", user=submitter), client(stack, "analyst", user=reviewer)
    actor = await create_actor(creator, **overrides)
    assert (await move(creator, actor["id"], "submit")).status_code == 200
    assert (await move(approver, actor["id"], "start-review")).status_code == 200
    return actor, creator, approver


def at(day: date) -> datetime:
    return datetime.combine(day, time(6), tzinfo=UTC)


async def test_an_actor_goes_from_draft_to_approved_with_a_risk_level_and_a_review_date(stack):
    creator, approver = client(stack, "field_agent", user="alice"), client(stack, "analyst", user="bob")
    actor = await create_actor(creator)
    await creator.post(f"/actors/{actor['id']}/persons", json=person_body())
    await creator.post(f"/actors/{actor['id']}/licences", json=licence_body())
    await move(creator, actor["id"], "submit")
    await move(approver, actor["id"], "start-review")
    await run_jobs(stack)

    response = await move(approver, actor["id"], "approve", reason="documents complete")

    assert response.status_code == 200, response.text
    approved = response.json()
    assert (approved["kyc_status"], approved["approved_by"], approved["submitted_by"]) == ("approved", "bob", "alice")
    assert approved["risk_level"] == "medium"  # a trader, with an owner and a valid licence, outside listed areas
    assert approved["next_review_date"] == add_months(date.today(), 24).isoformat()
    types = await outbox_types(stack, key=actor["id"])
    assert [t for t in types if t.startswith("Actor") and t != "ActorUpdated.v1"] == [
        "ActorRegistered.v1",
        "ActorSubmitted.v1",
        "ActorReviewStarted.v1",
        "ActorApproved.v1",
    ]
    event = (await payloads(stack, "ActorApproved"))[0]
    assert (event["approved_by"], event["risk_table_version"]) == ("bob", None)
    assert {k: event["actor"][k] for k in ("kyc_status", "risk_level", "next_review_date", "legal_name")} == {
        "kyc_status": "approved",
        "risk_level": "medium",
        "next_review_date": approved["next_review_date"],
        "legal_name": "Comptoir Minier de Goma SARL",
    }
    assert await history_actions(stack, actor["id"]) == [
        "registered",
        "person_added",
        "licence_added",
        "submitted",
        "review_started",
        "screened",
        "screened",
        "approved",
    ]


async def test_every_event_of_an_actor_carries_its_next_version_and_its_state_after_the_event(stack):
    agent, reviewer = client(stack, "field_agent", user="alice"), client(stack, "analyst", user="bob")
    actor = await create_actor(agent)
    await agent.post(f"/actors/{actor['id']}/persons", json=person_body())
    await agent.post(f"/actors/{actor['id']}/licences", json=licence_body())
    await move(agent, actor["id"], "submit")
    await move(reviewer, actor["id"], "start-review")
    await run_jobs(stack)
    await move(reviewer, actor["id"], "reject", reason="tax number missing")
    await move(agent, actor["id"], "reopen")
    await client(stack, "admin").post(f"/actors/{actor['id']}/shares", json={"org_id": "smelter-1"})

    events = [
        (r.event_type.removesuffix(".v1"), json.loads(r.payload))
        for r in await outbox_rows(stack)
        if r.key == actor["id"]
    ]

    assert [p["aggregate_version"] for _, p in events] == list(range(1, len(events) + 1))
    statuses = [(t, p["actor"]["kyc_status"]) for t, p in events if t.startswith("Actor")]
    assert statuses == [
        ("ActorRegistered", "draft"),
        ("ActorUpdated", "draft"),
        ("ActorUpdated", "draft"),
        ("ActorSubmitted", "submitted"),
        ("ActorReviewStarted", "under_review"),
        ("ActorRejected", "rejected"),
        ("ActorReopened", "draft"),
        ("ActorShared", "draft"),
    ]
    assert {t for t, _ in events} - {t for t, _ in statuses} == {"ScreeningCompleted"}
    licence_added = next(p for t, p in events if t == "ActorUpdated" and p["part"] == "licence")
    assert licence_added["licence"]["number"] == "NK-TC-2024-001"
    assert events[-1][1]["actor"]["shared_with"] == ["smelter-1"]


async def test_the_submitter_cannot_approve_their_own_submission(stack):
    actor, creator, _ = await submitted_for_review(stack, submitter="alice", reviewer="bob")
    await run_jobs(stack)

    response = await move(creator, actor["id"], "approve")

    assert response.status_code == 403 and response.json()["code"] == "four_eyes"
    assert (await stored(stack, ActorRow, actor["id"])).kyc_status == "under_review"
    assert "ActorApproved.v1" not in await outbox_types(stack)


async def test_an_admin_who_submitted_is_refused_too(stack):
    admin = client(stack, "admin", user="root")
    actor = await create_actor(admin)
    await move(admin, actor["id"], "submit")
    await move(admin, actor["id"], "start-review")
    await run_jobs(stack)

    response = await move(admin, actor["id"], "approve")

    assert response.status_code == 403 and response.json()["code"] == "four_eyes"


async def test_a_field_agent_submits_but_cannot_review(stack):
    agent = client(stack, "field_agent", user="fiona")
    actor = await create_actor(agent)
    assert (await move(agent, actor["id"], "submit")).status_code == 200

    for action in ("start-review", "approve", "suspend", "complete-review"):
        response = await agent.post(f"/actors/{actor['id']}/{action}", json={"reason": "x"})
        assert response.status_code == 403 and response.json()["code"] == "missing_role", action
    assert (await stored(stack, ActorRow, actor["id"])).kyc_status == "submitted"


async def test_approval_waits_for_screening_to_run(stack):
    actor, _, approver = await submitted_for_review(stack)

    response = await move(approver, actor["id"], "approve")

    assert response.status_code == 409 and response.json()["code"] == "screening_pending"
    await run_jobs(stack)
    assert (await move(approver, actor["id"], "approve")).status_code == 200


async def test_an_open_hit_blocks_approval_until_it_is_dismissed(stack):
    admin = client(stack, "admin", user="carol")
    watchlist = (await admin.post("/watchlists", json={"name": "Own list", "format": "csv"})).json()
    imported = await admin.post(
        f"/watchlists/{watchlist['id']}/imports", files={"file": ("list.csv", WATCHLIST_CSV, "text/csv")}
    )
    assert imported.status_code == 201, imported.text
    actor, _, approver = await submitted_for_review(stack)
    await run_jobs(stack)

    response = await move(approver, actor["id"], "approve")

    assert response.status_code == 409 and response.json()["code"] == "open_hits"
    hits = (await approver.get("/screening/hits", params={"actor_id": actor["id"]})).json()["items"]
    for hit in hits:
        await approver.post(f"/screening/hits/{hit['id']}/dismiss", json={"reason": "different company"})
    assert (await move(approver, actor["id"], "approve")).status_code == 200


async def test_moves_out_of_order_are_invalid_transitions(stack):
    http = client(stack, "analyst", user="bob")
    actor = await create_actor(http)
    for action in ("approve", "start-review", "suspend", "reopen"):
        response = await move(http, actor["id"], action, reason="x")
        assert response.status_code == 409 and response.json()["code"] == "invalid_transition", action
    await move(http, actor["id"], "submit")
    again = await move(http, actor["id"], "submit")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


async def test_a_stale_version_on_a_move_is_refused(stack):
    http = client(stack)
    actor = await create_actor(http)
    await http.patch(f"/actors/{actor['id']}", json={"version": 1, "tax_number": "T-2"})

    response = await http.post(f"/actors/{actor['id']}/submit", json={"version": 1})

    assert response.status_code == 409 and response.json()["code"] == "stale_version"


async def test_a_rejected_actor_is_reopened_corrected_and_resubmitted_by_someone_else(stack):
    actor, creator, approver = await submitted_for_review(stack, submitter="alice", reviewer="bob")
    assert (await approver.post(f"/actors/{actor['id']}/reject", json={})).status_code == 422  # a reason is needed
    rejected = await move(approver, actor["id"], "reject", reason="tax number missing")
    assert rejected.json()["kyc_status"] == "rejected"
    locked = await creator.patch(
        f"/actors/{actor['id']}", json={"version": rejected.json()["version"], "tax_number": "T-1"}
    )
    assert locked.status_code == 409 and locked.json()["code"] == "actor_locked"

    reopened = await move(creator, actor["id"], "reopen")
    assert (reopened.json()["kyc_status"], reopened.json()["submitted_by"]) == ("draft", None)
    await move(client(stack, "analyst", user="carol"), actor["id"], "submit")
    await move(approver, actor["id"], "start-review")
    await run_jobs(stack)
    assert (await move(creator, actor["id"], "approve")).status_code == 200  # alice no longer submitted it
    assert (await payloads(stack, "ActorRejected"))[0]["reason"] == "tax number missing"


async def test_an_approved_actor_is_suspended_and_reinstated(stack):
    actor = await approved_actor(stack)
    reviewer = client(stack, "analyst", user="bob")

    suspended = await move(reviewer, actor["id"], "suspend", reason="audit finding")
    reinstated = await move(reviewer, actor["id"], "reinstate", reason="finding closed")

    assert (suspended.json()["kyc_status"], reinstated.json()["kyc_status"]) == ("suspended", "approved")
    assert reinstated.json()["next_review_date"] == actor["next_review_date"]
    types = await outbox_types(stack, key=actor["id"])
    assert types[-2:] == ["ActorSuspended.v1", "ActorReinstated.v1"]
    assert (await payloads(stack, "ActorSuspended"))[0]["suspended_by"] == "bob"


async def test_an_actor_in_a_listed_area_is_high_risk_and_the_table_version_is_recorded(stack):
    admin = client(stack, "admin", user="carol")
    table = await admin.put(
        "/risk-areas",
        json=[{"area": "CD-NK", "level": "conflict_affected", "reason": "armed conflict", "source": "test fixture"}],
    )
    assert table.status_code == 200, table.text
    version = table.json()["version"]

    actor = await approved_actor(stack)

    assert (actor["risk_level"], actor["risk_table_version"]) == ("high", version)
    assert actor["risk_factors"] == ["high_risk_area"]
    assert actor["next_review_date"] == add_months(date.today(), 12).isoformat()
    event = (await payloads(stack, "ActorApproved"))[0]
    assert (event["actor"]["risk_level"], event["actor"]["risk_factors"], event["risk_table_version"]) == (
        "high",
        ["high_risk_area"],
        version,
    )


async def test_review_months_come_from_the_settings(stack):
    creator, approver = (
        client(stack, "analyst", user="alice"),
        client(stack, "analyst", user="bob", kyc_review_months_low=6),
    )
    actor = await create_actor(creator, actor_type="mine_operator", registration_number=None)
    await creator.post(f"/actors/{actor['id']}/persons", json=person_body())
    await creator.post(f"/actors/{actor['id']}/licences", json=licence_body(licence_type="mining_title"))
    await move(creator, actor["id"], "submit")
    await move(approver, actor["id"], "start-review")
    await run_jobs(stack)

    approved = (await move(approver, actor["id"], "approve")).json()

    assert approved["risk_level"] == "low"
    assert approved["next_review_date"] == add_months(date.today(), 6).isoformat()


async def test_an_overdue_review_is_listed_and_announced_once_per_review_date(stack):
    actor = await approved_actor(stack)
    due = date.fromisoformat(actor["next_review_date"])
    http = client(stack, "auditor", user="audrey")

    assert (await http.get("/actors/reviews/overdue")).json()["total"] == 0
    await run_jobs(stack, now=at(due))  # the due day itself is still on time
    assert "ReviewOverdue.v1" not in await outbox_types(stack)
    for _ in range(3):
        await run_jobs(stack, now=at(due + timedelta(days=1)))
    overdue = await http.get("/actors/reviews/overdue", params={"as_of": (due + timedelta(days=1)).isoformat()})
    assert [a["id"] for a in overdue.json()["items"]] == [actor["id"]]
    [overdue_event] = await payloads(stack, "ReviewOverdue")
    assert (overdue_event["actor_id"], overdue_event["next_review_date"]) == (actor["id"], due.isoformat())
    assert overdue_event["actor"]["next_review_date"] == due.isoformat()

    completed = await move(client(stack, "analyst", user="bob"), actor["id"], "complete-review")
    assert completed.status_code == 200, completed.text
    new_due = date.fromisoformat(completed.json()["next_review_date"])
    assert new_due == date.fromisoformat(actor["next_review_date"])  # completed today: same period from today
    await run_jobs(stack, now=at(new_due + timedelta(days=2)))
    await run_jobs(stack, now=at(new_due + timedelta(days=3)))
    assert len(await payloads(stack, "ReviewOverdue")) == 1  # same date: already announced


async def test_a_material_change_to_an_approved_actor_makes_its_review_due(stack):
    actor = await approved_actor(stack)
    http = client(stack, "analyst", user="bob")

    response = await http.patch(
        f"/actors/{actor['id']}", json={"version": actor["version"], "region": "CD-SK", "addresses": []}
    )

    assert response.json()["next_review_date"] == date.today().isoformat()
    assert response.json()["kyc_status"] == "approved"
    await run_jobs(stack, now=at(date.today() + timedelta(days=1)))
    assert len(await payloads(stack, "ReviewOverdue")) == 1


async def test_renaming_an_approved_actor_requests_a_re_review_with_the_reason_in_its_history(stack):
    actor = await approved_actor(stack)
    http = client(stack, "analyst", user="carol")

    response = await http.patch(
        f"/actors/{actor['id']}", json={"version": actor["version"], "legal_name": "Goma Minerals Holding SARL"}
    )

    renamed = response.json()
    assert (renamed["kyc_status"], renamed["review_reason"], renamed["review_requested_fields"]) == (
        "approved",
        "material_change",
        ["legal_name"],
    )
    assert renamed["next_review_date"] == date.today().isoformat()
    [requested] = await payloads(stack, "ActorReviewRequested")
    assert (requested["reason"], requested["changed_fields"], requested["requested_by"]) == (
        "material_change",
        ["legal_name"],
        "carol",
    )
    assert (requested["previous_review_date"], requested["next_review_date"]) == (
        actor["next_review_date"],
        date.today().isoformat(),
    )
    entry = (await http.get(f"/actors/{actor['id']}/history")).json()["items"][-1]
    assert (entry["action"], entry["user_id"]) == ("updated", "carol")
    assert entry["changes"]["legal_name"] == {
        "before": "Comptoir Minier de Goma SARL",
        "after": "Goma Minerals Holding SARL",
    }
    assert entry["changes"]["review_reason"] == {"before": None, "after": "material_change"}
    assert entry["changes"]["next_review_date"] == {
        "before": actor["next_review_date"],
        "after": renamed["next_review_date"],
    }

    await run_jobs(stack)
    completed = await move(client(stack, "analyst", user="bob"), actor["id"], "complete-review")
    assert completed.status_code == 200, completed.text
    assert (completed.json()["review_reason"], completed.json()["review_requested_fields"]) == (None, [])
