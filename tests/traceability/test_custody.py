"""A season's custody, mine to smelter, through the API: lots, transfers, a merge, a split, export, receipt, lineage."""

from __future__ import annotations

import sqlalchemy as sa

from services.traceability.domain import canonical_body, event_hash
from services.traceability.tables import CustodyEventRow
from tests.traceability.support import ORG, anomaly_kinds, approved_actor, outbox_types, site


async def issue(client, site_id, prefix: str, count: int = 10) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/tag-blocks", json={"prefix": prefix, "first": 1, "count": count, "site_id": str(site_id)}
    )
    assert response.status_code == 201, response.text


async def new_lot(client, site_id, producer, tag: str, mass: float = 100.0, unit: str = "KGM"):  # type: ignore[no-untyped-def]
    body = {"tag": tag, "mineral": "tin", "hs_code": "2609", "form": "ore", "mass": mass, "unit": unit,
            "site_id": str(site_id), "producer_actor_id": str(producer), "grade_pct": 60}  # fmt: skip
    return await client.post("/lots", json=body)


async def move(client, lot_id, sender, receiver, mass: float) -> None:  # type: ignore[no-untyped-def]
    sent = await client.post(
        f"/lots/{lot_id}/transfers", json={"from_actor_id": str(sender), "to_actor_id": str(receiver)}
    )
    assert sent.status_code == 201, sent.text
    got = await client.post(
        f"/lots/{lot_id}/transfers/confirm", json={"actor_id": str(receiver), "mass": mass, "unit": "KGM"}
    )
    assert got.status_code == 200, got.text


async def lots_at_exporter(client, sites, miners, trader, exporter) -> list[str]:  # type: ignore[no-untyped-def]
    """Two lots of 100 kg from each site, made by its miner under the site's tags, moved through the trader to the
    exporter: the start of a season."""
    for n, site_id in enumerate(sites):
        await issue(client, site_id, f"S{n}-")
    lots = []
    for n, site_id in enumerate(sites):
        for i in (1, 2):
            created = await new_lot(client, site_id, miners[n], f"S{n}-{i}", mass=100.0)
            assert created.status_code == 201, created.text
            lots.append(created.json()["lot_id"])
    for n, lot_id in enumerate(lots):
        await move(client, lot_id, miners[n // 2], trader, 100.0)
        await move(client, lot_id, trader, exporter, 100.0)
    return lots


async def test_a_season_from_two_sites_through_traders_to_a_smelter(stack):
    client = stack.client("traceability", stack.token(org=ORG))
    sites = [await site(stack), await site(stack)]
    miners = [await approved_actor(stack, "miner"), await approved_actor(stack, "miner")]
    trader, exporter, smelter = [await approved_actor(stack, kind) for kind in ("trader", "exporter", "smelter")]
    lots = await lots_at_exporter(client, sites, miners, trader, exporter)

    merged = await client.post("/transformations", json={"kind": "merge", "actor_id": str(exporter),
        "input_lot_ids": lots, "outputs": [{"mass": 400, "unit": "KGM", "form": "concentrate"}]})  # fmt: skip
    assert merged.status_code == 201, merged.text
    (blend,) = merged.json()["output_lot_ids"]
    halves = [{"mass": 0.25, "unit": "TNE"}, {"mass": 150, "unit": "KGM"}]
    split = await client.post(
        "/transformations",
        json={"kind": "split", "actor_id": str(exporter), "input_lot_ids": [blend], "outputs": halves},
    )
    assert split.status_code == 201, split.text
    shipment = split.json()["output_lot_ids"][0]
    exported = await client.post(f"/lots/{shipment}/export", json={"actor_id": str(exporter),
        "export_certificate": "CD-EXP-1", "country": "CD", "border_point": "Goma"})  # fmt: skip
    assert exported.status_code == 201, exported.text
    await move(client, shipment, exporter, smelter, 250.0)
    received = await client.post(f"/lots/{shipment}/receipt", json={"smelter_actor_id": str(smelter)})
    assert received.status_code == 201, received.text

    up = (await client.get(f"/lots/{shipment}/lineage", params={"direction": "up"})).json()
    assert sorted(x["lot_id"] for x in up["lots"] if x["depth"] == 2) == sorted(lots)
    assert sorted(up["site_ids"]) == sorted(map(str, sites))
    down = (await client.get(f"/lots/{lots[0]}/lineage", params={"direction": "down"})).json()
    assert {x["lot_id"] for x in down["lots"]} == {blend, *split.json()["output_lot_ids"]}
    consumed = await client.post(
        f"/lots/{lots[0]}/transfers", json={"from_actor_id": str(exporter), "to_actor_id": str(trader)}
    )
    assert (consumed.status_code, consumed.json()["code"]) == (409, "lot_consumed")
    assert await anomaly_kinds(stack) == []
    assert "LotReceived.v1" in await outbox_types(stack) and "LotConsumed.v1" in await outbox_types(stack)
    async with stack.sessions("traceability")() as db:
        log = (
            (
                await db.execute(
                    sa.select(CustodyEventRow).where(CustodyEventRow.org_id == ORG).order_by(CustodyEventRow.seq)
                )
            )
            .scalars()
            .all()
        )
    assert [e.seq for e in log] == list(range(len(log)))
    for before, after in zip(log, log[1:], strict=False):
        assert after.prev_hash == before.hash
    assert all(event_hash(e.body) == e.hash for e in log)
    assert canonical_body({"b": 1, "a": "é"}) == '{"a":"é","b":1}'


async def test_a_device_syncing_its_batch_twice_creates_nothing_twice(stack):
    client = stack.client("traceability", stack.token(org=ORG))
    site_id, miner, trader = await site(stack), await approved_actor(stack, "miner"), await approved_actor(stack)
    await issue(client, site_id, "B-")
    lot = {"action": "create_lot", "idempotency_key": "dev1-1", "tag": "B-1", "mineral": "tin", "form": "ore",
           "mass": 50, "unit": "KGM", "site_id": str(site_id), "producer_actor_id": str(miner)}  # fmt: skip
    first = (await client.post("/custody/batches", json={"items": [lot]})).json()["items"][0]
    lot_id = first["result"]["lot_id"]
    sent = {"action": "transfer", "idempotency_key": "dev1-2", "lot_id": lot_id, "from_actor_id": str(miner),
            "to_actor_id": str(trader)}  # fmt: skip
    batch = {"items": [lot, sent]}

    once = (await client.post("/custody/batches", json=batch)).json()["items"]
    twice = (await client.post("/custody/batches", json=batch)).json()["items"]

    assert [i["replayed"] for i in once] == [True, False] and [i["replayed"] for i in twice] == [True, True]
    assert once[1]["result"] == twice[1]["result"] and once[1]["status"] == 201
    async with stack.sessions("traceability")() as db:
        kinds = (await db.execute(sa.select(CustodyEventRow.kind).where(CustodyEventRow.org_id == ORG))).scalars()
        assert sorted(kinds) == ["creation", "transfer_initiated"]


async def test_a_batch_applies_its_items_in_order_in_one_chain_and_a_refused_item_leaves_nothing(stack):
    client = stack.client("traceability", stack.token(org=ORG))
    site_id, miner, trader = await site(stack), await approved_actor(stack, "miner"), await approved_actor(stack)
    pending = await approved_actor(stack, status="submitted")
    await issue(client, site_id, "BB-", count=3)
    made = [
        {"action": "create_lot", "idempotency_key": f"dev2-{n}", "tag": f"BB-{n}", "mineral": "tin", "form": "ore",
         "mass": 50, "unit": "KGM", "site_id": str(site_id), "producer_actor_id": str(miner)}
        for n in (1, 2)
    ]  # fmt: skip
    created = (await client.post("/custody/batches", json={"items": made})).json()["items"]
    first, second = (item["result"]["lot_id"] for item in created)
    items = [
        {"action": "transfer", "idempotency_key": "dev2-3", "lot_id": first, "from_actor_id": str(miner),
         "to_actor_id": str(trader)},
        {"action": "transfer", "idempotency_key": "dev2-4", "lot_id": second, "from_actor_id": str(miner),
         "to_actor_id": str(pending)},  # refused: the receiver is not approved
        {"action": "confirm", "idempotency_key": "dev2-5", "lot_id": first, "actor_id": str(trader), "mass": 40,
         "unit": "KGM"},  # applied, with a weight discrepancy
        {"action": "confirm", "idempotency_key": "dev2-6", "lot_id": second, "actor_id": str(pending), "mass": 50,
         "unit": "KGM"},  # refused: nothing awaits it
        {"action": "create_lot", "idempotency_key": "dev2-7", "tag": "BB-1", "mineral": "tin", "form": "ore",
         "mass": 50, "unit": "KGM", "site_id": str(site_id), "producer_actor_id": str(miner)},  # refused: tag used
    ]  # fmt: skip

    once = (await client.post("/custody/batches", json={"items": items})).json()["items"]
    twice = (await client.post("/custody/batches", json={"items": items})).json()["items"]

    assert [(i["status"], i["replayed"]) for i in once] == [(201, False), (409, False), (201, False), (409, False),
                                                           (409, False)]  # fmt: skip
    assert [i["result"].get("code") for i in once] == [None, "actor_not_approved", None, "no_pending_transfer",
                                                      "tag_used"]  # fmt: skip
    assert [i["replayed"] for i in twice] == [True, False, True, False, False]
    assert twice[0]["result"] == once[0]["result"] and twice[2]["result"] == once[2]["result"]
    lots = {lot: (await client.get(f"/lots/{lot}")).json() for lot in (first, second)}
    assert (lots[first]["status"], lots[first]["custodian_actor_id"], lots[first]["mass_kg"]) == (
        "active",
        str(trader),
        40.0,
    )
    assert (lots[second]["status"], lots[second]["custodian_actor_id"]) == ("active", str(miner))
    assert "weight_discrepancy" in await anomaly_kinds(stack)
    async with stack.sessions("traceability")() as db:
        log = (
            (
                await db.execute(
                    sa.select(CustodyEventRow).where(CustodyEventRow.org_id == ORG).order_by(CustodyEventRow.seq)
                )
            )
            .scalars()
            .all()
        )
    assert [e.kind for e in log] == ["creation", "creation", "transfer_initiated", "transfer_confirmed"]
    assert str(log[2].event_id) == once[0]["result"]["event_id"]
    assert [e.seq for e in log] == list(range(len(log)))
    for before, after in zip(log, log[1:], strict=False):
        assert after.prev_hash == before.hash
    assert all(event_hash(e.body) == e.hash for e in log)
