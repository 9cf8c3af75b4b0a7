"""Partner webhooks end to end against real PostgreSQL and a real loopback receiver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa

from libs.common import scheduler
from libs.common.events import incidents as events
from libs.common.relay import Relay
from services.incidents.webhooks import domain, partner_topics
from services.incidents.webhooks.handlers import on_incident_event
from services.incidents.webhooks.jobs import Dispatcher
from services.incidents.webhooks.repository import Deliveries
from tests.incidents.webhooks.receiver import Receiver
from tests.support.bus import envelopes, eventually, read_topic, running

DEV = dict(webhooks_allow_http=True, webhooks_allow_private=True, webhooks_retry_schedule_seconds=[0, 0, 0])
ACTOR = UUID("00000000-0000-0000-0000-00000000a001")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def state(status: str = "reported", **changes: Any) -> events.IncidentState:
    now = datetime.now(UTC)
    values: dict[str, Any] = dict(
        incident_id=changes.pop("incident_id", UUID("00000000-0000-0000-0000-0000000000c1")),
        org_id="org-a",
        reference="INC-2026-00001",
        category="annex2.forced_labour",
        category_group="annex2_serious_abuse",
        level=1,
        required_response="disengage",
        status=status,
        title="Forced labour at Site Kalimbi run by John Doe",
        summary="Witness Jane Roe saw John Doe's guards force miners to dig.",
        source="staff",
        country="CD",
        region="South Kivu",
        mineral="cassiterite",
        place="Kalimbi pit 3",
        actor_ids=[ACTOR],
        outcome="supplier suspended" if status == "closed" else None,
        reported_at=now,
        updated_at=now,
    )
    values.update(changes)
    return events.IncidentState(**values)


def event(cls: type[events.IncidentEvent], version: int, status: str, **changes: Any) -> events.IncidentEvent:
    incident = state(status, **changes)
    return cls(org_id=incident.org_id, incident_id=incident.incident_id, aggregate_version=version, incident=incident)


async def consume(stack: Any, *evs: events.IncidentEvent) -> None:
    for ev in evs:
        async with stack.sessions("incidents")() as db, db.begin():
            await on_incident_event(db, ev)


async def subscribe(stack: Any, receiver: Receiver, tier: str = "member", **body: Any) -> dict[str, Any]:
    client = stack.client("incidents", stack.token(org="org-a", kind="partner", roles=("admin",)), **DEV)
    response = await client.post("/webhooks/subscriptions", json={"url": receiver.url, "tier": tier, **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    receiver.secret = created["secret"]
    return created


async def deliver_until(stack: Any, check: Any, **overrides: Any) -> None:
    settings = stack.settings("incidents", **{**DEV, **overrides})
    dispatcher = Dispatcher(settings)
    job = scheduler.Job("incidents.webhooks.deliver", timedelta(0), dispatcher.run)

    async def tick() -> Any:
        await scheduler.run_due(stack.sessions("incidents"), [job], force=True)
        await dispatcher.drain()
        return check()

    try:
        await eventually(tick, timeout=30)
    finally:
        await dispatcher.close()


async def deliveries(stack: Any) -> list[Any]:
    async with stack.sessions("incidents")() as db:
        return list((await db.execute(sa.select(Deliveries).order_by(Deliveries.c.aggregate_version))).all())


async def test_500_twice_then_200_redelivers_with_the_same_webhook_id(stack: Any, receiver: Receiver) -> None:
    receiver.script = [500, 500]
    await subscribe(stack, receiver)
    reported = event(events.IncidentReported, 1, "reported")
    await consume(stack, reported, reported)  # delivered twice by the bus: one delivery
    assert len(await deliveries(stack)) == 1

    await deliver_until(stack, lambda: len(receiver.received) >= 3)

    got = receiver.received
    assert [r.answered for r in got] == [500, 500, 200]
    assert all(r.verified for r in got)
    assert len({r.webhook_id for r in got}) == 1
    assert got[0].body == got[2].body
    assert got[0].body["type"] == "incident.reported"
    [row] = await deliveries(stack)
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 3, 200)


async def test_public_tier_sees_only_verified_outcomes_redacted(stack: Any, receiver: Receiver) -> None:
    member = Receiver()
    try:
        await subscribe(stack, receiver, tier="public")
        member_sub = await subscribe(stack, member, tier="member")
        await consume(
            stack,
            event(events.IncidentReported, 1, "reported"),
            event(events.IncidentTriaged, 2, "triage"),
            event(events.IncidentVerified, 3, "verified"),
            event(events.IncidentClosed, 4, "closed"),
        )
        await deliver_until(stack, lambda: len(receiver.received) >= 2 and len(member.received) >= 4)
        assert member.secret == member_sub["secret"]
    finally:
        member.close()

    public = receiver.received
    assert [r.body["type"] for r in public] in (
        ["incident.verified", "incident.closed"],
        ["incident.closed", "incident.verified"],
    )
    for r in public:
        incident = r.body["data"]["incident"]
        assert set(incident) == {*domain.PUBLIC_FIELDS, "summary"}
        text = repr(r.body)
        for secret_word in ("John Doe", "Jane Roe", "Kalimbi", str(ACTOR)):
            assert secret_word not in text
    closed = next(r for r in public if r.body["type"] == "incident.closed")
    assert closed.body["data"]["incident"]["outcome"] == "supplier suspended"
    assert sorted(r.body["type"] for r in member.received) == sorted(
        ["incident.reported", "incident.triaged", "incident.verified", "incident.closed"]
    )
    assert all(r.body["data"]["incident"]["title"].startswith("Forced labour") for r in member.received)


async def test_filters_choose_incidents(stack: Any, receiver: Receiver) -> None:
    await subscribe(stack, receiver, filters={"countries": ["RW"], "levels": [1]})
    other = uuid4()
    await consume(
        stack,
        event(events.IncidentReported, 1, "reported"),  # CD: not wanted
        event(events.IncidentReported, 1, "reported", incident_id=other, country="RW"),
    )
    await deliver_until(stack, lambda: len(receiver.received) >= 1)
    assert [r.body["data"]["incident"]["incident_id"] for r in receiver.received] == [str(other)]
    assert len(await deliveries(stack)) == 1


async def test_other_organisations_events_are_not_delivered(stack: Any, receiver: Receiver) -> None:
    await subscribe(stack, receiver)
    await consume(stack, event(events.IncidentReported, 1, "reported", org_id="org-b"))
    assert await deliveries(stack) == []


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://127.0.0.1:9/hook", "blocked_address"),
        ("http://localhost:9/hook", "blocked_address"),  # a name that resolves to 127.0.0.1
        ("http://10.0.0.5/hook", "blocked_address"),
        ("http://169.254.169.254/latest/meta-data", "blocked_address"),
        ("http://[::1]:9/hook", "blocked_address"),
        ("http://host.invalid/hook", "unresolvable_host"),
        ("ftp://example.org/hook", "url_not_https"),
    ],
)
async def test_subscription_refuses_private_addresses(stack: Any, url: str, code: str) -> None:
    client = stack.client(
        "incidents",
        stack.token(kind="partner", roles=("admin",)),
        webhooks_allow_http=True,
        webhooks_allow_private=False,
    )
    response = await client.post("/webhooks/subscriptions", json={"url": url, "tier": "member"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


async def test_http_refused_outside_dev(stack: Any) -> None:
    client = stack.client("incidents", stack.token(kind="partner", roles=("admin",)))
    response = await client.post("/webhooks/subscriptions", json={"url": "http://example.org/h", "tier": "member"})
    assert (response.status_code, response.json()["code"]) == (422, "url_not_https")


async def test_delivery_checks_the_connected_address(stack: Any, receiver: Receiver) -> None:
    """Allowed when subscribing (dev), then refused at delivery: the check runs on what is connected to."""
    await subscribe(stack, receiver)
    await consume(stack, event(events.IncidentReported, 1, "reported"))

    async def refused() -> bool:
        return any(r.last_error == "blocked_address" for r in await deliveries(stack))

    settings = stack.settings("incidents", **{**DEV, "webhooks_allow_private": False})
    dispatcher = Dispatcher(settings)
    job = scheduler.Job("incidents.webhooks.deliver", timedelta(0), dispatcher.run)
    await scheduler.run_due(stack.sessions("incidents"), [job], force=True)
    await dispatcher.close()
    assert await refused()
    assert receiver.received == []


async def test_public_tier_refuses_id_filters(stack: Any, receiver: Receiver) -> None:
    client = stack.client("incidents", stack.token(kind="partner", roles=("admin",)), **DEV)
    body = {"url": receiver.url, "tier": "public", "filters": {"actor_ids": [str(ACTOR)]}}
    response = await client.post("/webhooks/subscriptions", json=body)
    assert (response.status_code, response.json()["code"]) == (422, "filter_not_in_tier")


async def test_rotation_signs_with_both_secrets_during_grace(stack: Any, receiver: Receiver) -> None:
    created = await subscribe(stack, receiver)
    client = stack.client("incidents", stack.token(kind="partner", roles=("admin",)), **DEV)
    rotated = (await client.post(f"/webhooks/subscriptions/{created['id']}/secret")).json()
    receiver.secret = created["secret"]  # a receiver that has not switched yet still verifies
    await consume(stack, event(events.IncidentReported, 1, "reported"))
    await deliver_until(stack, lambda: len(receiver.received) >= 1)
    assert receiver.received[0].verified
    assert len(receiver.received[0].signature.split(" ")) == 2
    receiver.secret = rotated["secret"]
    await consume(stack, event(events.IncidentTriaged, 2, "triage"))
    await deliver_until(stack, lambda: len(receiver.received) >= 2)
    assert receiver.received[1].verified


async def test_list_deliveries_and_replay_keep_webhook_ids(stack: Any, receiver: Receiver) -> None:
    created = await subscribe(stack, receiver)
    client = stack.client("incidents", stack.token(kind="partner", roles=("admin",)), **DEV)
    await consume(stack, event(events.IncidentReported, 1, "reported"), event(events.IncidentTriaged, 2, "triage"))
    await deliver_until(stack, lambda: len(receiver.received) >= 2)
    listed = (await client.get(f"/webhooks/subscriptions/{created['id']}/deliveries")).json()
    assert listed["total"] == 2
    assert {d["status"] for d in listed["items"]} == {"delivered"}
    first_ids = {r.webhook_id for r in receiver.received}
    assert {d["webhook_id"] for d in listed["items"]} == first_ids

    now = datetime.now(UTC)
    body = {"since": (now - timedelta(hours=1)).isoformat(), "until": (now + timedelta(hours=1)).isoformat()}
    replayed = await client.post(f"/webhooks/subscriptions/{created['id']}/replay", json=body)
    assert replayed.json() == {"requeued": 2}
    await deliver_until(stack, lambda: len(receiver.received) >= 4)
    assert {r.webhook_id for r in receiver.received[2:]} == first_ids

    bad = await client.post(f"/webhooks/subscriptions/{created['id']}/replay", json={**body, "until": body["since"]})
    assert (bad.status_code, bad.json()["code"]) == (422, "range_out_of_order")


async def test_exhausted_retries_fail_and_disable_then_admin_enables(stack: Any, receiver: Receiver) -> None:
    receiver.script = [500] * 10
    created = await subscribe(stack, receiver)
    await consume(stack, event(events.IncidentReported, 1, "reported"))
    overrides = dict(webhooks_retry_schedule_seconds=[0], webhooks_disable_after_failures=1)
    await deliver_until(stack, lambda: len(receiver.received) >= 2, **overrides)
    [row] = await deliveries(stack)
    assert (row.status, row.attempts, row.last_error) == ("failed", 2, "http_500")
    partner = stack.client("incidents", stack.token(kind="partner", roles=("admin",)), **DEV)
    sub = (await partner.get(f"/webhooks/subscriptions/{created['id']}")).json()
    assert (sub["enabled"], sub["disabled_reason"]) == (False, "too_many_failures")
    analyst = stack.client("incidents", stack.token(kind="partner", roles=("analyst",)), **DEV)
    refused = await analyst.post(f"/webhooks/subscriptions/{created['id']}/enable")
    assert (refused.status_code, refused.json()["code"]) == (403, "missing_role")
    enabled = (await partner.post(f"/webhooks/subscriptions/{created['id']}/enable")).json()
    assert enabled["enabled"] is True


async def test_foreign_subscription_is_404(stack: Any, receiver: Receiver) -> None:
    created = await subscribe(stack, receiver)
    foreign = stack.client("incidents", stack.token(org="org-b", kind="partner", roles=("admin",)), **DEV)
    for response in (
        await foreign.get(f"/webhooks/subscriptions/{created['id']}"),
        await foreign.get(f"/webhooks/subscriptions/{created['id']}/deliveries"),
        await foreign.post(f"/webhooks/subscriptions/{created['id']}/secret"),
    ):
        assert (response.status_code, response.json()["code"]) == (404, "subscription_not_found")
    listed = (await foreign.get("/webhooks/subscriptions")).json()
    assert listed == {"items": [], "total": 0}
    assert (
        "secret"
        not in (
            await stack.client("incidents", stack.token(kind="partner")).get(f"/webhooks/subscriptions/{created['id']}")
        ).json()
    )


async def test_partner_topics_hold_only_what_the_tier_sees(stack: Any) -> None:
    incident_id = uuid4()
    await consume(
        stack,
        event(events.IncidentReported, 1, "reported", incident_id=incident_id),
        event(events.IncidentVerified, 2, "verified", incident_id=incident_id),
    )
    settings = stack.settings("incidents")

    async def of_incident(topic: str, count: int) -> list[Any]:
        found = [e for e in envelopes(await read_topic(stack.bootstrap, topic)) if e.key == str(incident_id)]
        return found if len(found) >= count else []

    async with running(Relay(settings, stack.sessions("incidents")).run):
        mine = await eventually(lambda: of_incident(partner_topics.MEMBER_TOPIC, 2))
        public = await eventually(lambda: of_incident(partner_topics.PUBLIC_TOPIC, 1))
    assert sorted(_body(e)["type"] for e in mine) == ["incident.reported", "incident.verified"]
    [published] = public
    body = _body(published)
    assert body["type"] == "incident.verified"
    assert set(body["data"]["incident"]) == {*domain.PUBLIC_FIELDS, "summary"}
    assert "John Doe" not in json.dumps(body)


def _body(envelope: Any) -> dict[str, Any]:
    payload = envelope.payload
    return payload if isinstance(payload, dict) else json.loads(payload)
