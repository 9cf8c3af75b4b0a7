"""Transformations as batch items: each all or nothing, with mass balance, custodian and blocking rules, once per
idempotency key, in the batch's one hash chain; the merged lot's proof verifies offline."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import sqlalchemy as sa

from services.traceability.domain import event_hash
from services.traceability.tables import CustodyEventRow, LotRow
from tests.traceability.support import ORG, anomaly_kinds, approved_actor, deliver, outbox_types, site, site_turned
from tests.traceability.test_custody import issue
from tests.traceability.test_proofs_api import download, verify


async def created(client, site_id, miner, prefix: str, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    await issue(client, site_id, prefix, count=count)
    items = [
        {"action": "create_lot", "idempotency_key": f"{prefix}c{n}", "tag": f"{prefix}{n}", "mineral": "tin",
         "form": "ore", "mass": 100, "unit": "KGM", "site_id": str(site_id), "producer_actor_id": str(miner)}
        for n in range(1, count + 1)
    ]  # fmt: skip
    answers = (await client.post("/custody/batches", json={"items": items})).json()["items"]
    assert [a["status"] for a in answers] == [201] * count, answers
    return [a["result"]["lot_id"] for a in answers]


def transform(key: str, kind: str, actor, inputs: list[str], masses: list[float]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {"action": "transform", "idempotency_key": key, "kind": kind, "actor_id": str(actor),
            "input_lot_ids": inputs, "outputs": [{"mass": m, "unit": "KGM"} for m in masses]}  # fmt: skip


async def log_of(stack) -> list[CustodyEventRow]:  # type: ignore[no-untyped-def]
    async with stack.sessions("traceability")() as db:
        query = sa.select(CustodyEventRow).where(CustodyEventRow.org_id == ORG).order_by(CustodyEventRow.seq)
        return list((await db.execute(query)).scalars().all())


async def lot_count(stack) -> int:  # type: ignore[no-untyped-def]
    async with stack.sessions("traceability")() as db:
        return int((await db.execute(sa.select(sa.func.count()).select_from(LotRow))).scalar_one())


async def test_batch_transformations_are_each_all_or_nothing_and_applied_once(stack, tmp_path):
    client = stack.client("traceability", stack.token(org=ORG))
    site_id, miner, other = await site(stack), await approved_actor(stack, "miner"), await approved_actor(stack)
    a, b, c, d = await created(client, site_id, miner, "TB-", 4)
    before = await lot_count(stack)
    items = [
        transform("tb-1", "split", miner, [a], [60, 40]),
        transform("tb-2", "merge", miner, [b, c], [150, 60]),  # refused: a merge gives one lot
        transform("tb-3", "merge", miner, [b, c], [250]),  # refused: 250 kg out of 200 kg in
        transform("tb-4", "merge", other, [b, c], [200]),  # refused: `other` never held them
        transform("tb-5", "split", miner, [a], [50, 50]),  # refused: `a` was consumed by tb-1
        transform("tb-6", "merge", miner, [b, c, d], [300]),
    ]

    once = (await client.post("/custody/batches", json={"items": items})).json()["items"]
    twice = (await client.post("/custody/batches", json={"items": items})).json()["items"]

    assert [(i["status"], i["result"].get("code")) for i in once] == [
        (201, None), (422, "transformation_shape"), (422, "mass_balance_exceeded"), (409, "not_custodian"),
        (409, "lot_consumed"), (201, None),
    ]  # fmt: skip
    halves, (merged,) = once[0]["result"]["output_lot_ids"], once[5]["result"]["output_lot_ids"]
    assert len(halves) == 2
    assert [i["replayed"] for i in twice] == [True, False, False, False, False, True]
    assert twice[0]["result"] == once[0]["result"] and twice[5]["result"] == once[5]["result"]
    assert await lot_count(stack) == before + 3  # the refused items and the resend made no lot
    lots = {lot: (await client.get(f"/lots/{lot}")).json() for lot in (a, b, c, d, *halves, merged)}
    assert [lots[x]["status"] for x in (a, b, c, d)] == ["consumed"] * 4
    assert sorted(lots[x]["mass_kg"] for x in halves) == [40.0, 60.0] and lots[merged]["mass_kg"] == 300.0
    assert all(lots[x]["custodian_actor_id"] == str(miner) for x in (*halves, merged))
    assert sorted(await anomaly_kinds(stack)) == ["custody_jump", "mass_balance_excess"]  # kept though refused
    lineage = (await client.get(f"/lots/{merged}/lineage", params={"direction": "up"})).json()
    assert sorted(x["lot_id"] for x in lineage["lots"]) == sorted([b, c, d])
    types = await outbox_types(stack)
    assert types.count("LotCreated.v1") == 4 + 3 and types.count("LotConsumed.v1") == 4
    log = await log_of(stack)
    assert [e.kind for e in log] == ["creation"] * 4 + ["transformation"] * 2
    assert [e.seq for e in log] == list(range(len(log)))
    assert all(after.prev_hash == before.hash for before, after in zip(log, log[1:], strict=False))
    assert all(event_hash(e.body) == e.hash for e in log)
    key = (await client.get("/proof-key")).json()
    (tmp_path / "key.pem").write_text(key["public_key"])
    result = verify(tmp_path, await download(client, merged), "--key", str(tmp_path / "key.pem"))
    assert result.returncode == 0, result.stdout + result.stderr


async def test_a_batch_transformation_of_a_blocked_lot_is_refused_and_the_rest_goes_on(stack):
    client = stack.client("traceability", stack.token(org=ORG))
    green, red = await site(stack), await site(stack)
    miner = await approved_actor(stack, "miner")
    (ok,) = await created(client, green, miner, "TG-", 1)
    (blocked,) = await created(client, red, miner, "TR-", 1)
    await deliver(stack, site_turned(red, "red", 2))
    items = [
        transform("tr-1", "split", miner, [blocked], [50, 50]),
        transform("tr-2", "merge", miner, [ok, blocked], [200]),
        transform("tr-3", "split", miner, [ok], [30, 70]),
    ]

    answers = (await client.post("/custody/batches", json={"items": items})).json()["items"]

    assert [(i["status"], i["result"].get("code")) for i in answers] == [
        (409, "lot_blocked"), (409, "lot_blocked"), (201, None)
    ]  # fmt: skip
    assert (await client.get(f"/lots/{blocked}")).json()["status"] == "blocked"
    assert (await client.get(f"/lots/{ok}")).json()["status"] == "consumed"
    assert [e.kind for e in await log_of(stack)] == ["creation", "creation", "transformation"]


async def test_a_transfer_then_a_split_of_the_same_lot_in_one_batch(stack):
    """Items see what the batch's earlier items did: the receiver splits the lot it confirmed a moment before."""
    client = stack.client("traceability", stack.token(org=ORG))
    site_id, miner, trader = await site(stack), await approved_actor(stack, "miner"), await approved_actor(stack)
    (lot,) = await created(client, site_id, miner, "TT-", 1)
    items = [
        transform("tt-0", "split", trader, [lot], [50, 50]),  # refused: not the trader's yet
        {"action": "transfer", "idempotency_key": "tt-1", "lot_id": lot, "from_actor_id": str(miner),
         "to_actor_id": str(trader)},
        transform("tt-2", "split", miner, [lot], [50, 50]),  # refused: in transit
        {"action": "confirm", "idempotency_key": "tt-3", "lot_id": lot, "actor_id": str(trader), "mass": 90,
         "unit": "KGM"},
        transform("tt-4", "split", trader, [lot], [50, 50]),  # refused: 100 kg out of the 90 kg weighed
        transform("tt-5", "split", trader, [lot], [45, 45]),
    ]  # fmt: skip

    answers = (await client.post("/custody/batches", json={"items": items})).json()["items"]

    assert [(i["status"], i["result"].get("code")) for i in answers] == [
        (409, "not_custodian"), (201, None), (409, "transfer_pending"), (201, None), (422, "mass_balance_exceeded"),
        (201, None),
    ]  # fmt: skip
    kinds = [e.kind for e in await log_of(stack)]
    assert kinds == ["creation", "transfer_initiated", "transfer_confirmed", "transformation"]
    assert sorted(await anomaly_kinds(stack)) == ["custody_jump", "mass_balance_excess", "weight_discrepancy"]


async def test_a_batch_whose_transformations_name_too_many_lots_is_refused_whole(stack):
    client = stack.client("traceability", stack.token(org=ORG))
    miner = await approved_actor(stack, "miner")
    lots = [str(uuid4()) for _ in range(500)]
    items = [transform(f"tm-{n}", "merge", miner, lots, [1]) for n in range(4)]  # 4 × 501 lots named

    response = await client.post("/custody/batches", json={"items": items})

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await lot_count(stack) == 0
