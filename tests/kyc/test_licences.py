"""Licences over HTTP and the expiry job: dates in order, one LicenceExpiring and one LicenceExpired each."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, time, timedelta

from libs.common.scheduler import run_due
from services.kyc.jobs import licence_expiry_job
from services.kyc.tables.register import LicenceRow
from tests.kyc.register_support import (
    PDF,
    client,
    count,
    create_actor,
    edit,
    licence_body,
    outbox_rows,
    payloads,
    run_jobs,
    stored,
)


def at(day: date) -> datetime:
    return datetime.combine(day, time(3), tzinfo=UTC)


async def actor_with_licence(stack, **licence):  # type: ignore[no-untyped-def]
    http = client(stack)
    actor = await create_actor(http)
    response = await http.post(f"/actors/{actor['id']}/licences", json=licence_body(**licence))
    assert response.status_code == 201, response.text
    return actor, response.json(), http


async def test_a_licence_is_recorded_with_its_state_and_history(stack):
    actor, licence, http = await actor_with_licence(stack, valid_from="2024-01-01", valid_to="2099-12-31")

    assert (licence["state"], licence["number"], licence["actor_id"]) == ("valid", "NK-TC-2024-001", actor["id"])
    assert [item["id"] for item in (await http.get(f"/actors/{actor['id']}/licences")).json()] == [licence["id"]]
    event = (await payloads(stack, "ActorUpdated"))[0]
    assert (event["part"], event["part_id"], event["action"]) == ("licence", licence["id"], "added")
    history = (await http.get(f"/actors/{actor['id']}/history")).json()["items"]
    assert history[-1]["action"] == "licence_added" and history[-1]["changes"]["valid_to"]["after"] == "2099-12-31"


async def test_a_licence_ending_before_it_starts_is_refused(stack):
    http = client(stack)
    actor = await create_actor(http)

    response = await http.post(
        f"/actors/{actor['id']}/licences", json=licence_body(valid_from="2025-06-01", valid_to="2025-05-31")
    )

    assert response.status_code == 422 and response.json()["code"] == "dates_out_of_order"
    assert await count(stack, LicenceRow) == 0
    assert [r.event_type for r in await outbox_rows(stack)] == ["ActorRegistered.v1"]


async def test_a_correction_putting_the_end_before_the_start_is_refused(stack):
    _, licence, http = await actor_with_licence(stack)

    response = await edit(http, f"/licences/{licence['id']}", valid_from="2031-01-01")

    assert response.status_code == 422 and response.json()["code"] == "dates_out_of_order"


async def test_the_same_licence_number_twice_for_one_actor_is_a_conflict(stack):
    actor, _, http = await actor_with_licence(stack)

    response = await http.post(f"/actors/{actor['id']}/licences", json=licence_body(number="nk-tc-2024-001"))

    assert response.status_code == 409 and response.json()["code"] == "duplicate_licence"


async def test_a_licence_can_attach_an_uploaded_document(stack):
    http = client(stack)
    actor = await create_actor(http)
    document = (
        await http.post(
            "/documents", data={"doc_type": "licence"}, files={"file": ("card.pdf", PDF, "application/pdf")}
        )
    ).json()

    response = await http.post(f"/actors/{actor['id']}/licences", json=licence_body(document_id=document["id"]))

    assert response.json()["document_ids"] == [document["id"]]
    linked = (await http.get(f"/documents/{document['id']}")).json()
    assert (linked["licence_id"], linked["actor_id"]) == (response.json()["id"], actor["id"])


async def test_expiring_and_expired_are_each_announced_once_over_repeated_runs(stack):
    actor, licence, _ = await actor_with_licence(stack, valid_from="2024-01-01", valid_to="2096-03-31")
    end = date(2096, 3, 31)

    await run_jobs(stack, now=at(end - timedelta(days=61)))
    assert await payloads(stack, "LicenceExpiring") == []
    for days_before in (60, 59, 10, 0):
        await run_jobs(stack, now=at(end - timedelta(days=days_before)))
    for days_after in (1, 2, 30):
        await run_jobs(stack, now=at(end + timedelta(days=days_after)))

    expiring, expired = await outbox_rows(stack, "LicenceExpiring"), await outbox_rows(stack, "LicenceExpired")
    assert len(expiring) == 1 and len(expired) == 1
    assert {r.key for r in expiring + expired} == {actor["id"]}  # keyed by the actor: its events stay in order
    event = (await payloads(stack, "LicenceExpired"))[0]
    assert {k: v for k, v in event.items() if k not in ("actor", "aggregate_version")} == {
        "org_id": "org-a",
        "licence_id": licence["id"],
        "actor_id": actor["id"],
        "licence_type": "trader_card",
        "number": "NK-TC-2024-001",
        "valid_to": "2096-03-31",
    }
    assert event["actor"]["actor_id"] == actor["id"]
    assert event["aggregate_version"] == max(
        json.loads(r.payload)["aggregate_version"] for r in await outbox_rows(stack) if r.key == actor["id"]
    )
    row = await stored(stack, LicenceRow, licence["id"])
    assert row.expiring_notified_at is not None and row.expired_notified_at is not None


async def test_two_workers_running_the_job_at_once_announce_once(stack):
    await actor_with_licence(stack, valid_from="2024-01-01", valid_to="2096-03-31")
    job = licence_expiry_job(stack.settings("kyc"))
    now = at(date(2096, 3, 1))

    await asyncio.gather(*[run_due(stack.sessions("kyc"), [job], now=now, force=True) for _ in range(4)])
    await run_due(stack.sessions("kyc"), [job], now=now, force=True)

    assert len(await outbox_rows(stack, "LicenceExpiring")) == 1


async def test_the_lead_time_is_a_setting(stack):
    await actor_with_licence(stack, valid_from="2024-01-01", valid_to="2096-03-31")

    await run_jobs(stack, now=at(date(2096, 3, 1)), kyc_licence_expiry_lead_days=10)
    assert await payloads(stack, "LicenceExpiring") == []
    await run_jobs(stack, now=at(date(2096, 3, 21)), kyc_licence_expiry_lead_days=10)
    assert len(await payloads(stack, "LicenceExpiring")) == 1


async def test_a_licence_already_past_its_end_is_announced_expired_only(stack):
    await actor_with_licence(stack, valid_from="2020-01-01", valid_to="2021-01-01")

    await run_jobs(stack, now=at(date(2026, 1, 1)))

    assert (len(await payloads(stack, "LicenceExpiring")), len(await payloads(stack, "LicenceExpired"))) == (0, 1)


async def test_a_renewed_licence_is_announced_again_for_its_new_end(stack):
    _, licence, http = await actor_with_licence(stack, valid_from="2024-01-01", valid_to="2096-03-31")
    await run_jobs(stack, now=at(date(2096, 3, 1)))

    renewed = await edit(http, f"/licences/{licence['id']}", valid_to="2098-03-31")

    assert renewed.status_code == 200 and renewed.json()["expiring_notified_at"] is None
    await run_jobs(stack, now=at(date(2096, 4, 1)))
    assert len(await payloads(stack, "LicenceExpired")) == 0
    await run_jobs(stack, now=at(date(2098, 3, 1)))
    assert [p["valid_to"] for p in await payloads(stack, "LicenceExpiring")] == ["2096-03-31", "2098-03-31"]


async def test_a_licence_without_end_never_expires(stack):
    await actor_with_licence(stack, valid_to=None)
    await run_jobs(stack, now=at(date(2190, 1, 1)))
    assert await outbox_rows(stack, "LicenceExpired") == []


async def test_a_licence_recorded_already_expired_is_announced_at_once_and_not_again_by_the_job(stack):
    actor, licence, http = await actor_with_licence(stack, valid_from="2020-01-01", valid_to="2021-01-01")

    assert licence["state"] == "expired" and licence["expired_notified_at"] is not None
    [event] = await payloads(stack, "LicenceExpired")
    assert (event["licence_id"], event["actor_id"]) == (licence["id"], actor["id"])
    await run_jobs(stack)
    assert (len(await payloads(stack, "LicenceExpiring")), len(await payloads(stack, "LicenceExpired"))) == (0, 1)
    history = (await http.get(f"/actors/{actor['id']}/history")).json()["items"]
    actions = [h["action"] for h in history]
    assert actions.index("licence_added") + 1 == actions.index("expired_announced")


async def test_a_licence_recorded_inside_the_lead_time_is_expiring_at_once_and_expired_later_once(stack):
    today = datetime.now(UTC).date()
    end = today + timedelta(days=10)
    actor, licence, http = await actor_with_licence(stack, valid_from="2024-01-01", valid_to=end.isoformat())

    assert licence["state"] == "expiring" and licence["expiring_notified_at"] is not None
    assert [r.event_type for r in await outbox_rows(stack) if r.key == actor["id"]][-2:] == [
        "ActorUpdated.v1",
        "LicenceExpiring.v1",
    ]
    await run_jobs(stack)
    await run_jobs(stack, now=at(end + timedelta(days=1)))
    await run_jobs(stack, now=at(end + timedelta(days=2)))
    assert (len(await payloads(stack, "LicenceExpiring")), len(await payloads(stack, "LicenceExpired"))) == (1, 1)
    listed = (await http.get("/licences", params={"state": "expiring"})).json()
    assert [item["id"] for item in listed["items"]] == [licence["id"]]
    assert (await http.get("/licences", params={"state": "valid"})).json()["items"] == []


async def test_a_correction_bringing_the_end_inside_the_lead_time_is_announced_at_once(stack):
    _, licence, http = await actor_with_licence(stack, valid_from="2024-01-01", valid_to="2096-03-31")
    assert licence["state"] == "valid" and await payloads(stack, "LicenceExpiring") == []
    soon = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()

    corrected = await edit(http, f"/licences/{licence['id']}", valid_to=soon)

    assert corrected.json()["state"] == "expiring" and corrected.json()["expiring_notified_at"] is not None
    assert [p["valid_to"] for p in await payloads(stack, "LicenceExpiring")] == [soon]
    await edit(http, f"/licences/{licence['id']}", issuer="Division des Mines du Nord-Kivu")
    await run_jobs(stack)
    assert len(await payloads(stack, "LicenceExpiring")) == 1


async def test_the_expiring_state_follows_the_lead_time_setting(stack):
    end = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    http = client(stack, kyc_licence_expiry_lead_days=10)
    actor = await create_actor(http)

    response = await http.post(f"/actors/{actor['id']}/licences", json=licence_body(valid_to=end))

    assert response.json()["state"] == "valid" and await payloads(stack, "LicenceExpiring") == []
