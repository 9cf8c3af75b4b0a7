"""A clean season of 200 lots raises no anomaly at all: four sites, three traders, merges at an exporter, splits at
a processor, export and receipt at a smelter, through the API (batches where a field device would send them)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from tests.traceability.support import ORG, approved_actor, site
from tests.traceability.test_custody import issue, move

SITES, PER_SITE, BLEND = 4, 50, 25  # 200 lots of 20 kg; blends of 25 lots at the exporter


async def batch(client, items: list[dict[str, Any]]) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    results: list[dict[str, Any]] = []
    for start in range(0, len(items), 100):
        response = await client.post("/custody/batches", json={"items": items[start : start + 100]})
        assert response.status_code == 200, response.text
        results.extend(response.json()["items"])
    assert [r["status"] for r in results] == [201] * len(items), [r for r in results if r["status"] != 201][:3]
    return results


def handover(lots: list[str], senders: list[UUID], receivers: list[UUID], key: str) -> list[dict[str, Any]]:
    """Each lot sent, then each confirmed at its full 20 kg, as one device's sync would carry them."""
    sent, confirmed = [], []
    for n, (lot, sender, receiver) in enumerate(zip(lots, senders, receivers, strict=True)):
        sent.append({"action": "transfer", "idempotency_key": f"{key}-t-{n}", "lot_id": lot,
                     "from_actor_id": str(sender), "to_actor_id": str(receiver)})  # fmt: skip
        confirmed.append({"action": "confirm", "idempotency_key": f"{key}-c-{n}", "lot_id": lot,
                          "actor_id": str(receiver), "mass": 20, "unit": "KGM"})  # fmt: skip
    return sent + confirmed


@pytest.mark.timeout(600)  # about 1,200 custody writes: tens of seconds here, minutes when the machine is busy
async def test_a_clean_season_of_200_lots_raises_no_anomaly(stack):
    client = stack.client("traceability", stack.token(org=ORG))
    sites = [await site(stack, capacity=10_000.0) for _ in range(SITES)]
    miners = [await approved_actor(stack, "miner") for _ in range(SITES)]
    traders = [await approved_actor(stack, "trader") for _ in range(3)]
    exporter, processor, smelter = [await approved_actor(stack, kind) for kind in ("exporter", "processor", "smelter")]
    for n, site_id in enumerate(sites):
        await issue(client, site_id, f"C{n}-", count=PER_SITE)

    created = await batch(client, [
        {"action": "create_lot", "idempotency_key": f"lot-{n}-{i}", "tag": f"C{n}-{i}", "mineral": "tin",
         "form": "ore", "mass": 20, "unit": "KGM", "site_id": str(sites[n]), "producer_actor_id": str(miners[n])}
        for n in range(SITES) for i in range(1, PER_SITE + 1)
    ])  # fmt: skip
    lots = [r["result"]["lot_id"] for r in created]
    producers = [miners[n // PER_SITE] for n in range(len(lots))]
    holders = [traders[n % 3] for n in range(len(lots))]
    await batch(client, handover(lots, producers, holders, "to-trader"))
    await batch(client, handover(lots, holders, [exporter] * len(lots), "to-exporter"))

    blends = []
    for start in range(0, len(lots), BLEND):
        merged = await client.post("/transformations", json={"kind": "merge", "actor_id": str(exporter),
            "input_lot_ids": lots[start : start + BLEND], "outputs": [{"mass": 20 * BLEND, "unit": "KGM",
            "form": "concentrate"}]})  # fmt: skip
        assert merged.status_code == 201, merged.text
        blends.extend(merged.json()["output_lot_ids"])
    shipments = []
    for blend in blends:
        await move(client, blend, exporter, processor, 20.0 * BLEND)
        split = await client.post("/transformations", json={"kind": "split", "actor_id": str(processor),
            "input_lot_ids": [blend], "outputs": [{"mass": 10 * BLEND, "unit": "KGM"}] * 2})  # fmt: skip
        assert split.status_code == 201, split.text
        shipments.extend(split.json()["output_lot_ids"])
    for n, shipment in enumerate(shipments):
        exported = await client.post(f"/lots/{shipment}/export", json={"actor_id": str(processor),
            "export_certificate": f"CD-EXP-{n}", "country": "CD", "border_point": "Goma"})  # fmt: skip
        assert exported.status_code == 201, exported.text
        await move(client, shipment, processor, smelter, 10.0 * BLEND)
        received = await client.post(f"/lots/{shipment}/receipt", json={"smelter_actor_id": str(smelter)})
        assert received.status_code == 201, received.text

    anomalies = await client.get("/anomalies")
    assert anomalies.status_code == 200
    assert (anomalies.json()["total"], anomalies.json()["items"]) == (0, [])
    up = (await client.get(f"/lots/{shipments[-1]}/lineage", params={"direction": "up"})).json()
    assert len([x for x in up["lots"] if x["depth"] == 2]) == BLEND
    assert (await client.get(f"/lots/{shipments[0]}")).json()["custodian_actor_id"] == str(smelter)
