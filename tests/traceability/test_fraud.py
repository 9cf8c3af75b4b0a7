"""Fraud scenarios: each refused or accepted as the issue says, and each raising its anomaly, once."""

from __future__ import annotations

from tests.traceability.support import (
    ORG,
    anomaly_kinds,
    approved_actor,
    deliver,
    incident_verified,
    site,
    site_turned,
)
from tests.traceability.test_custody import issue, move, new_lot


async def programme(stack, *, capacity: float | None = 5000.0):  # type: ignore[no-untyped-def]
    client = stack.client("traceability", stack.token(org=ORG))
    site_id = await site(stack, capacity=capacity)
    miner, trader = await approved_actor(stack, "miner"), await approved_actor(stack, "trader")
    await issue(client, site_id, "T-")
    return client, site_id, miner, trader


async def test_a_tag_used_twice_is_refused_and_recorded_as_tag_reuse(stack):
    client, site_id, miner, _ = await programme(stack)
    assert (await new_lot(client, site_id, miner, "T-1")).status_code == 201

    again = await new_lot(client, site_id, miner, "T-1")

    assert (again.status_code, again.json()["code"]) == (409, "tag_used")
    assert again.headers["content-type"].startswith("application/problem+json")
    assert await anomaly_kinds(stack) == ["tag_reuse"]


async def test_an_unissued_tag_is_refused_and_recorded(stack):
    client, site_id, miner, _ = await programme(stack)

    response = await new_lot(client, site_id, miner, "NOPE-1")

    assert (response.status_code, response.json()["code"]) == (422, "tag_unknown")
    assert await anomaly_kinds(stack) == ["tag_unallocated"]


async def test_a_merge_whose_outputs_outweigh_its_inputs_is_refused_whole_and_recorded(stack):
    client, site_id, miner, _ = await programme(stack)
    lots = [(await new_lot(client, site_id, miner, f"T-{i}")).json()["lot_id"] for i in (1, 2)]

    response = await client.post(
        "/transformations",
        json={
            "kind": "merge",
            "actor_id": str(miner),
            "input_lot_ids": lots,
            "outputs": [{"mass": 250, "unit": "KGM"}],
        },
    )

    assert (response.status_code, response.json()["code"]) == (422, "mass_balance_exceeded")
    assert [(await client.get(f"/lots/{lot}")).json()["status"] for lot in lots] == ["active", "active"]
    assert await anomaly_kinds(stack) == ["mass_balance_excess"]


async def test_a_months_production_above_the_sites_capacity_raises_capacity_exceeded(stack):
    client, site_id, miner, _ = await programme(stack, capacity=250.0)

    for i in (1, 2, 3):
        assert (await new_lot(client, site_id, miner, f"T-{i}")).status_code == 201

    assert await anomaly_kinds(stack) == ["capacity_exceeded"]


async def test_a_lot_presented_by_an_actor_that_never_received_it_is_a_custody_jump(stack):
    client, site_id, miner, trader = await programme(stack)
    lot = (await new_lot(client, site_id, miner, "T-1")).json()["lot_id"]
    other = await approved_actor(stack, "exporter")

    response = await client.post(
        f"/lots/{lot}/transfers", json={"from_actor_id": str(trader), "to_actor_id": str(other)}
    )

    assert (response.status_code, response.json()["code"]) == (409, "not_custodian")
    assert await anomaly_kinds(stack) == ["custody_jump"]


async def test_a_lot_from_a_site_turned_red_is_blocked(stack):
    client, site_id, miner, trader = await programme(stack)
    lot = (await new_lot(client, site_id, miner, "T-1")).json()["lot_id"]
    await deliver(stack, site_turned(site_id, "red", version=2))

    response = await client.post(
        f"/lots/{lot}/transfers", json={"from_actor_id": str(miner), "to_actor_id": str(trader)}
    )

    assert (response.status_code, response.json()["code"]) == (409, "lot_blocked")
    assert (await new_lot(client, site_id, miner, "T-2")).json()["code"] == "site_blocked"


async def test_a_verified_level_1_incident_on_the_site_blocks_its_lots(stack):
    client, site_id, miner, trader = await programme(stack)
    lot = (await new_lot(client, site_id, miner, "T-1")).json()["lot_id"]
    await deliver(stack, incident_verified(site_ids=[site_id]))

    response = await client.post(
        f"/lots/{lot}/transfers", json={"from_actor_id": str(miner), "to_actor_id": str(trader)}
    )

    assert (response.status_code, response.json()["code"]) == (409, "lot_blocked")


async def test_a_transfer_to_a_suspended_actor_is_refused(stack):
    client, site_id, miner, _ = await programme(stack)
    lot = (await new_lot(client, site_id, miner, "T-1")).json()["lot_id"]
    suspended = await approved_actor(stack, "trader", status="suspended")

    response = await client.post(
        f"/lots/{lot}/transfers", json={"from_actor_id": str(miner), "to_actor_id": str(suspended)}
    )

    assert (response.status_code, response.json()["code"]) == (409, "actor_not_approved")


async def test_a_weighed_mass_beyond_the_tolerance_raises_weight_discrepancy(stack):
    client, site_id, miner, trader = await programme(stack)
    lot = (await new_lot(client, site_id, miner, "T-1")).json()["lot_id"]

    await move(client, lot, miner, trader, 90.0)

    assert await anomaly_kinds(stack) == ["weight_discrepancy"]


async def test_bad_input_is_a_problem(stack):
    client, site_id, miner, _ = await programme(stack)

    zero = await new_lot(client, site_id, miner, "T-1", mass=0)
    unit = await new_lot(client, site_id, miner, "T-1", unit="XXX")
    lot = (await new_lot(client, site_id, miner, "T-1")).json()["lot_id"]
    to_self = await client.post(f"/lots/{lot}/transfers", json={"from_actor_id": str(miner), "to_actor_id": str(miner)})
    confirm = await client.post(
        f"/lots/{lot}/transfers/confirm", json={"actor_id": str(miner), "mass": 1, "unit": "KGM"}
    )

    assert zero.json()["code"] == "mass_not_positive"
    assert unit.json()["code"] == "unknown_unit"
    assert (to_self.status_code, to_self.json()["code"]) == (422, "transfer_to_self")
    assert (confirm.status_code, confirm.json()["code"]) == (409, "no_pending_transfer")
