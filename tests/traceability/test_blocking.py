"""Blocking as state: a site or incident copy changing blocks or releases lots in the same transaction, once each."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa

from libs.common import bus, outbox
from libs.common.events import incidents
from libs.common.events.incidents import IncidentState
from libs.common.relay import Relay
from services.traceability import handlers
from tests.support.bus import envelopes, eventually, read_topic, running
from tests.traceability.support import ORG, approved_actor, deliver, site, site_turned
from tests.traceability.test_custody import issue, move, new_lot


def incident(
    event_class: type[incidents.IncidentEvent],
    incident_id: UUID,
    version: int,
    *,
    status: str,
    level: int = 1,
    **names: list[UUID],
) -> incidents.IncidentEvent:
    now = datetime.now(UTC)
    state = IncidentState(
        incident_id=incident_id, org_id=ORG, reference="INC-9", category="annex2.forced_labour",
        category_group="annex2_serious_abuse", level=level, required_response="disengage", status=status,
        title="forced labour", summary="seen", source="staff", reported_at=now, updated_at=now, **names,
    )  # fmt: skip
    extra: dict[str, Any] = (
        {"previous_level": 2, "reason": "armed group"} if event_class is incidents.IncidentEscalated else {}
    )
    return event_class(org_id=ORG, incident_id=incident_id, aggregate_version=version, incident=state, **extra)


async def lot_events(stack, lot_id: str) -> list[tuple[str, str, list[str], int]]:  # type: ignore[no-untyped-def]
    """(type, lot status, blocked reasons, version) of each LotBlocked / LotReleased in the outbox for the lot."""
    async with stack.engine("traceability").connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT event_type, payload FROM outbox_message WHERE key = :key ORDER BY id"), {"key": lot_id}
        )
        found = []
        for event_type, payload in rows:
            if event_type.startswith(("LotBlocked", "LotReleased")):
                body = json.loads(payload)
                found.append(
                    (event_type, body["lot"]["status"], body["lot"]["blocked_reasons"], body["aggregate_version"])
                )
        return found


async def programme(stack, prefix: str = "K-"):  # type: ignore[no-untyped-def]
    client = stack.client("traceability", stack.token(org=ORG))
    site_id = await site(stack)
    miner, trader = await approved_actor(stack, "miner"), await approved_actor(stack, "trader")
    await issue(client, site_id, prefix)
    return client, site_id, miner, trader


async def test_a_site_turning_red_blocks_its_lots_once_and_green_releases_them(stack):
    client, site_id, miner, trader = await programme(stack)
    lot = (await new_lot(client, site_id, miner, "K-1")).json()["lot_id"]
    in_transit = (await new_lot(client, site_id, miner, "K-2")).json()["lot_id"]
    sent = await client.post(
        f"/lots/{in_transit}/transfers", json={"from_actor_id": str(miner), "to_actor_id": str(trader)}
    )
    assert sent.status_code == 201
    red = site_turned(site_id, "red", version=2)

    await deliver(stack, red)
    await deliver(stack, red, site_turned(site_id, "green", version=1))  # a duplicate, then a stale one

    shown = (await client.get(f"/lots/{lot}")).json()
    assert (shown["status"], shown["blocked_reasons"]) == ("blocked", [f"site_red:{site_id}"])
    assert (await client.get(f"/lots/{in_transit}")).json()["status"] == "blocked"
    assert [e[:3] for e in await lot_events(stack, lot)] == [("LotBlocked.v1", "blocked", [f"site_red:{site_id}"])]
    refused = await client.post(
        f"/lots/{in_transit}/transfers/confirm", json={"actor_id": str(trader), "mass": 100, "unit": "KGM"}
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "lot_blocked")

    await deliver(stack, site_turned(site_id, "green", version=3))
    await deliver(stack, site_turned(site_id, "green", version=3))

    shown = (await client.get(f"/lots/{lot}")).json()
    assert (shown["status"], shown["blocked_reasons"]) == ("active", [])
    assert (await client.get(f"/lots/{in_transit}")).json()["status"] == "in_transit"
    events = await lot_events(stack, lot)
    assert [e[:3] for e in events] == [
        ("LotBlocked.v1", "blocked", [f"site_red:{site_id}"]),
        ("LotReleased.v1", "active", []),
    ]
    assert events[1][3] == events[0][3] + 1 == shown["version"]
    confirmed = await client.post(
        f"/lots/{in_transit}/transfers/confirm", json={"actor_id": str(trader), "mass": 100, "unit": "KGM"}
    )
    assert confirmed.status_code == 200, confirmed.text


async def test_a_lot_blocked_for_two_reasons_is_released_only_when_both_clear(stack):
    client, site_id, miner, _ = await programme(stack)
    lot = (await new_lot(client, site_id, miner, "K-1")).json()["lot_id"]
    incident_id = uuid4()
    await deliver(
        stack,
        incident(incidents.IncidentReported, incident_id, 1, status="reported", site_ids=[site_id]),
    )
    assert (await client.get(f"/lots/{lot}")).json()["status"] == "active"  # not verified yet: not blocking

    await deliver(
        stack,
        incident(incidents.IncidentVerified, incident_id, 3, status="verified", site_ids=[site_id]),
        site_turned(site_id, "red", version=2),
    )
    shown = (await client.get(f"/lots/{lot}")).json()
    assert shown["blocked_reasons"] == sorted([f"incident:{incident_id}", f"site_red:{site_id}"])

    await deliver(stack, incident(incidents.IncidentClosed, incident_id, 5, status="closed", site_ids=[site_id]))
    shown = (await client.get(f"/lots/{lot}")).json()
    assert (shown["status"], shown["blocked_reasons"]) == ("blocked", [f"site_red:{site_id}"])
    assert [e[0] for e in await lot_events(stack, lot)] == ["LotBlocked.v1"]

    await deliver(stack, site_turned(site_id, "yellow", version=4))
    shown = (await client.get(f"/lots/{lot}")).json()
    assert (shown["status"], shown["blocked_reasons"]) == ("active", [])
    assert [e[0] for e in await lot_events(stack, lot)] == ["LotBlocked.v1", "LotReleased.v1"]


async def test_an_incident_escalated_to_level_1_blocks_its_actors_lots_and_dismissal_releases(stack):
    client, site_id, miner, trader = await programme(stack)
    held = (await new_lot(client, site_id, miner, "K-1")).json()["lot_id"]
    moved = (await new_lot(client, site_id, miner, "K-2")).json()["lot_id"]
    named = (await new_lot(client, site_id, miner, "K-3")).json()["lot_id"]
    await move(client, moved, miner, trader, 100.0)
    on_actor, on_lot = uuid4(), uuid4()
    await deliver(
        stack,
        incident(incidents.IncidentVerified, on_actor, 2, status="verified", level=2, actor_ids=[trader]),
        incident(incidents.IncidentVerified, on_lot, 2, status="verified", lot_ids=[UUID(named)]),
    )
    assert (await client.get(f"/lots/{moved}")).json()["status"] == "active"  # level 2 does not block

    await deliver(stack, incident(incidents.IncidentEscalated, on_actor, 3, status="verified", actor_ids=[trader]))

    assert (await client.get(f"/lots/{moved}")).json()["blocked_reasons"] == [f"incident:{on_actor}"]
    assert (await client.get(f"/lots/{held}")).json()["status"] == "active"  # the miner is not named
    assert (await client.get(f"/lots/{named}")).json()["blocked_reasons"] == [f"incident:{on_lot}"]
    # a lot confirmed to the named actor is blocked from then on
    sent = await client.post(f"/lots/{held}/transfers", json={"from_actor_id": str(miner), "to_actor_id": str(trader)})
    assert sent.status_code == 201
    await client.post(f"/lots/{held}/transfers/confirm", json={"actor_id": str(trader), "mass": 100, "unit": "KGM"})
    assert (await client.get(f"/lots/{held}")).json()["blocked_reasons"] == [f"incident:{on_actor}"]
    assert [e[0] for e in await lot_events(stack, held)] == ["LotBlocked.v1"]

    await deliver(
        stack,
        incident(incidents.IncidentDismissed, on_actor, 4, status="dismissed", actor_ids=[trader]),
        incident(incidents.IncidentUpdated, on_lot, 3, status="verified", lot_ids=[]),  # no longer names it
    )

    for lot in (moved, held, named):
        shown = (await client.get(f"/lots/{lot}")).json()
        assert (shown["status"], shown["blocked_reasons"]) == ("active", [])
        assert [e[0] for e in await lot_events(stack, lot)] == ["LotBlocked.v1", "LotReleased.v1"]


async def test_a_consumed_lot_is_left_as_it_was(stack):
    client, site_id, miner, _ = await programme(stack)
    lots = [(await new_lot(client, site_id, miner, f"K-{n}")).json()["lot_id"] for n in (1, 2)]
    merged = await client.post("/transformations", json={"kind": "merge", "actor_id": str(miner),
        "input_lot_ids": lots, "outputs": [{"mass": 200, "unit": "KGM"}]})  # fmt: skip
    (output,) = merged.json()["output_lot_ids"]

    await deliver(stack, site_turned(site_id, "red", version=2))

    assert [(await client.get(f"/lots/{lot}")).json()["status"] for lot in lots] == ["consumed", "consumed"]
    assert await lot_events(stack, lots[0]) == []
    assert (await client.get(f"/lots/{output}")).json()["blocked_reasons"] == [f"site_red:{site_id}"]


async def test_over_the_broker_a_red_site_sent_twice_publishes_one_lot_blocked(stack, broker):
    client, site_id, miner, _ = await programme(stack)
    lot = (await new_lot(client, site_id, miner, "K-1")).json()["lot_id"]
    red = site_turned(site_id, "red", version=2)
    async with stack.sessions("kyc")() as db, db.begin():
        for _ in range(2):  # the same change published twice (two event ids, one version)
            outbox.add(db, red, key=site_id)

    consumer = bus.Consumer(stack.settings("traceability"), stack.sessions("traceability"), handlers.HANDLERS)
    relays = [Relay(stack.settings(name), stack.sessions(name)).run for name in ("kyc", "traceability")]
    async with running(*relays, consumer.run):
        records = await eventually(lambda: _blocked_on_topic(broker.bootstrap, lot))
        await eventually(lambda: _consumed(stack, 2))

    assert [e.event_type for e in records] == ["LotBlocked.v1"]
    assert records[0].payload["lot"]["blocked_reasons"] == [f"site_red:{site_id}"]  # type: ignore[index]
    assert await lot_events(stack, lot) == [("LotBlocked.v1", "blocked", [f"site_red:{site_id}"], 2)]


async def _blocked_on_topic(bootstrap: str, lot: str) -> list[Any] | None:
    found = [
        e
        for e in envelopes(await read_topic(bootstrap, "traceability.events"))
        if e.key == lot and e.event_type.startswith(("LotBlocked", "LotReleased"))
    ]
    return found or None


async def _consumed(stack, count: int) -> bool:  # type: ignore[no-untyped-def]
    async with stack.engine("traceability").connect() as conn:
        seen = (await conn.execute(sa.text("SELECT count(*) FROM processed_event"))).scalar_one()
    return seen >= count


async def test_lots_blocked_before_reasons_were_state_get_them_from_the_backfill_migration(stack):
    """0103 added blocked_reasons as [] on existing lots; 0104 derives them from the site and incident copies."""
    import importlib

    backfill = importlib.import_module(
        "services.traceability.migrations.versions.0104_lot_blocked_reasons_backfill"
    ).backfill
    client, site_id, miner, trader = await programme(stack, "M-")
    red_lot = (await new_lot(client, site_id, miner, "M-1")).json()["lot_id"]
    other_site = await site(stack)
    await issue(client, other_site, "MO-")
    held = (await new_lot(client, other_site, trader, "MO-1")).json()["lot_id"]
    free = (await new_lot(client, other_site, miner, "MO-2")).json()["lot_id"]
    incident_id = uuid4()
    await deliver(stack, site_turned(site_id, "red", version=2))
    await deliver(stack, incident(incidents.IncidentVerified, incident_id, 3, status="verified", actor_ids=[trader]))
    lots = sa.table("lot", sa.column("lot_id", sa.Uuid()), sa.column("blocked_reasons", sa.JSON()))
    async with stack.engine("traceability").begin() as conn:  # as 0103 left the lots that existed then
        await conn.execute(sa.update(lots).values(blocked_reasons=[]))

    async with stack.engine("traceability").begin() as conn:
        assert await conn.run_sync(backfill) == 2
    async with stack.engine("traceability").begin() as conn:
        assert await conn.run_sync(backfill) == 0  # once set, left alone

    shown = {lot: (await client.get(f"/lots/{lot}")).json() for lot in (red_lot, held, free)}
    assert (shown[red_lot]["status"], shown[red_lot]["blocked_reasons"]) == ("blocked", [f"site_red:{site_id}"])
    assert shown[held]["blocked_reasons"] == [f"incident:{incident_id}"]
    assert (shown[free]["status"], shown[free]["blocked_reasons"]) == ("active", [])
