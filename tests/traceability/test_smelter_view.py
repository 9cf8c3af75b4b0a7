"""Smelters: scoped to the lots their actor held and their lineage; the custody view of a lot; the mine list CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa

from libs.common.auth import issue_token
from libs.common.events.scoring import ScoreChanged, ScoreFactor
from services.traceability.tables import KnownActorRow
from tests.traceability.support import ORG, approved_actor, deliver, incident_verified, site
from tests.traceability.test_custody import lots_at_exporter, move


def smelter_token(stack, actor_id: UUID | None, *, org: str = ORG) -> str:  # type: ignore[no-untyped-def]
    return issue_token(
        stack.settings("traceability"), user_id="sam", org_id=org, org_kind="smelter", roles=["analyst"],
        actor_id=str(actor_id) if actor_id else None,
    )  # fmt: skip


async def chain(stack) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Four mine lots from two sites through a trader to an exporter, merged (398 kg of 400), split in two; one half
    exported and received by the smelter, the other kept by the exporter."""
    client = stack.client("traceability", stack.token(org=ORG))
    sites = [await site(stack), await site(stack)]
    miners = [await approved_actor(stack, "miner"), await approved_actor(stack, "miner")]
    trader, exporter, smelter = [await approved_actor(stack, kind) for kind in ("trader", "exporter", "smelter")]
    mine_lots = await lots_at_exporter(client, sites, miners, trader, exporter)
    merged = await client.post("/transformations", json={"kind": "merge", "actor_id": str(exporter),
        "input_lot_ids": mine_lots, "outputs": [{"mass": 398, "unit": "KGM", "form": "concentrate"}]})  # fmt: skip
    assert merged.status_code == 201, merged.text
    (blend,) = merged.json()["output_lot_ids"]
    halves = [{"mass": 0.25, "unit": "TNE"}, {"mass": 148, "unit": "KGM"}]
    split = await client.post("/transformations", json={"kind": "split", "actor_id": str(exporter),
        "input_lot_ids": [blend], "outputs": halves})  # fmt: skip
    assert split.status_code == 201, split.text
    shipment, kept = split.json()["output_lot_ids"]
    exported = await client.post(f"/lots/{shipment}/export", json={"actor_id": str(exporter),
        "export_certificate": "CD-EXP-1", "country": "CD", "border_point": "Goma"})  # fmt: skip
    assert exported.status_code == 201, exported.text
    await move(client, shipment, exporter, smelter, 250.0)
    received = await client.post(f"/lots/{shipment}/receipt", json={"smelter_actor_id": str(smelter)})
    assert received.status_code == 201, received.text
    return {
        "client": client, "sites": sites, "miners": miners, "trader": trader, "exporter": exporter,
        "smelter": smelter, "mine_lots": mine_lots, "blend": blend, "shipment": shipment, "kept": kept,
    }  # fmt: skip


async def test_a_smelter_sees_its_lot_and_lineage_and_nothing_it_never_held(stack):
    c = await chain(stack)
    smelter = stack.client("traceability", smelter_token(stack, c["smelter"]))
    foreign = stack.client("traceability", smelter_token(stack, c["smelter"], org="org-b"))

    own = await smelter.get(f"/lots/{c['shipment']}")
    lineage = await smelter.get(f"/lots/{c['shipment']}/lineage")
    upstream = [await smelter.get(f"/lots/{lot}") for lot in (c["blend"], *c["mine_lots"])]
    never_held = [await smelter.get(f"/lots/{c['kept']}{path}") for path in ("", "/lineage", "/proof", "/epcis",
                                                                           "/custody")]  # fmt: skip
    other_org = await foreign.get(f"/lots/{c['shipment']}")
    recall = await smelter.get(f"/lots/{c['mine_lots'][0]}/lineage", params={"direction": "down"})

    assert own.status_code == 200 and lineage.status_code == 200
    assert {x["lot_id"] for x in lineage.json()["lots"]} == {c["blend"], *c["mine_lots"]}
    assert [r.status_code for r in upstream] == [200] * 5
    assert [(r.status_code, r.json()["code"]) for r in never_held] == [(404, "lot_not_found")] * 5
    assert (other_org.status_code, other_org.json()["code"]) == (404, "lot_not_found")
    assert {x["lot_id"] for x in recall.json()["lots"]} == {c["blend"], c["shipment"]}  # not the half it never had
    assert (await c["client"].get(f"/lots/{c['kept']}")).status_code == 200  # the operator sees its programme


async def test_a_smelter_may_not_record_custody_nor_read_the_programmes_registers(stack):
    c = await chain(stack)
    smelter = stack.client("traceability", smelter_token(stack, c["smelter"]))

    tags = await smelter.post("/tag-blocks", json={"prefix": "X-", "first": 1, "count": 1, "site_id": str(uuid4())})
    back = {"from_actor_id": str(c["smelter"]), "to_actor_id": str(c["trader"])}
    transfer = await smelter.post(f"/lots/{c['shipment']}/transfers", json=back)
    actors = await smelter.get("/known-actors")

    assert [(r.status_code, r.json()["code"]) for r in (tags, transfer, actors)] == [(403, "operator_only")] * 3
    assert (await smelter.get("/checkpoints")).status_code == 200  # what it needs to verify proofs


async def test_a_smelter_token_without_its_actor_is_refused(stack):
    c = await chain(stack)
    not_a_uuid = issue_token(
        stack.settings("traceability"), user_id="sam", org_id=ORG, org_kind="smelter", roles=["analyst"], actor_id="x"
    )
    for token in (smelter_token(stack, None), not_a_uuid):
        response = await stack.client("traceability", token).get(f"/lots/{c['shipment']}")

        assert response.status_code == 403
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "smelter_actor_missing"


async def test_the_custody_view_holds_the_whole_chain_back_to_the_mines(stack):
    c = await chain(stack)
    open_incident = incident_verified(site_ids=[c["sites"][0]])
    await deliver(stack, open_incident, incident_verified(site_ids=[c["sites"][1]], status="closed"))
    await deliver(stack, ScoreChanged(
        org_id=ORG, subject_type="lot", subject_id=UUID(c["shipment"]), aggregate_version=1, score=42.0,
        band="medium", factors=[ScoreFactor(factor="upstream_worst", value="yellow", contribution=42.0)],
        weights_version="w1", computed_at=datetime(2026, 11, 30, tzinfo=UTC),
    ))  # fmt: skip
    async with stack.sessions("traceability")() as db, db.begin():  # our copy lost the trader (say, a rebuild)
        await db.execute(sa.delete(KnownActorRow).where(KnownActorRow.actor_id == c["trader"]))
    smelter = stack.client("traceability", smelter_token(stack, c["smelter"]))
    assert (await smelter.get(f"/lots/{c['shipment']}/proof")).status_code == 200  # signs a checkpoint

    response = await smelter.get(f"/lots/{c['shipment']}/custody")

    assert response.status_code == 200, response.text
    view = response.json()
    depths = {lot["lot_id"]: lot["depth"] for lot in view["lots"]}
    assert depths == {c["shipment"]: 0, c["blend"]: 1, **{lot: 2 for lot in c["mine_lots"]}}
    assert {lot["mass_kg"] for lot in view["lots"] if lot["depth"] == 0} == {250.0}
    assert len(view["events"]) == 4 * 5 + 2 + 4  # per mine lot: creation, two transfers; merge, split; ship
    assert [e["kind"] for e in view["events"][-4:]] == ["export", "transfer_initiated", "transfer_confirmed",
                                                        "receipt"]  # fmt: skip
    statuses = {a["actor_id"]: a["kyc_status"] for a in view["actors"]}
    expected = {str(c[k]): "approved" for k in ("exporter", "smelter")} | {str(m): "approved" for m in c["miners"]}
    assert statuses == expected | {str(c["trader"]): "unknown"}
    assert all(a["version"] and a["updated_at"] for a in view["actors"] if a["kyc_status"] != "unknown")
    assert {(s["site_id"], s["status"]) for s in view["sites"]} == {(str(s), "green") for s in c["sites"]}
    assert [(i["incident_id"], i["level"], i["category"], i["status"]) for i in view["open_incidents"]] == [
        (str(open_incident.incident_id), 1, "annex2.forced_labour", "verified")
    ]
    factor = {"factor": "upstream_worst", "value": "yellow", "contribution": 42.0, "source_event_id": None}
    assert view["risk"] == {"score": 42.0, "band": "medium", "as_of": "2026-11-30T00:00:00Z", "version": 1,
                            "factors": [factor]}  # fmt: skip
    balances = {b["transformation"]: b for b in view["mass_balance"]}
    assert (balances["merge"]["inputs_kg"], balances["merge"]["outputs_kg"]) == (400.0, 398.0)
    assert balances["merge"]["difference_pct"] == -0.5 and balances["merge"]["within_tolerance"]
    assert (balances["split"]["inputs_kg"], balances["split"]["outputs_kg"], balances["split"]["difference_pct"]) == (
        398.0, 398.0, 0.0)  # fmt: skip
    verification = view["verification"]
    assert verification["checkpoint_tree_size"] >= len(view["events"]) and verification["covers_all_events"]
    assert len(verification["checkpoint_root_hash"]) == 64
    assert verification["proof_url"] == f"/lots/{c['shipment']}/proof"
    assert "python -m services.traceability.proofs verify" in verification["verify_command"]


async def test_an_operator_sees_any_lots_custody_view_and_a_smelter_never_a_lot_of_another_org(stack):
    c = await chain(stack)

    kept = await c["client"].get(f"/lots/{c['kept']}/custody")

    assert kept.status_code == 200
    assert kept.json()["risk"] is None and kept.json()["verification"]["checkpoint_tree_size"] is None
    assert (await c["client"].get(f"/lots/{uuid4()}/custody")).status_code == 404


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_the_mine_list_names_the_origin_mines_behind_what_the_smelter_received_in_the_period(stack):
    c = await chain(stack)
    smelter = stack.client("traceability", smelter_token(stack, c["smelter"]))
    today = datetime.now(UTC).date().isoformat()

    period = await smelter.get("/mine-list.csv", params={"from": today, "to": today})
    empty = await smelter.get("/mine-list.csv", params={"from": "2020-01-01", "to": "2020-12-31"})
    by_operator = await c["client"].get(
        "/mine-list.csv", params={"from": "2026-01-01", "to": "2099-12-31", "smelter_actor_id": str(c["smelter"])}
    )
    for_the_exporter = await c["client"].get(
        "/mine-list.csv", params={"from": today, "to": today, "smelter_actor_id": str(c["exporter"])}
    )

    assert period.status_code == 200 and period.headers["content-type"].startswith("text/csv")
    rows = rows_of(period.text)
    assert sorted(r["Mine Identification"] for r in rows) == sorted(map(str, c["sites"]))
    assert {(r["Metal"], r["Mine Country"], r["Mine Status"], r["Number of Lots"]) for r in rows} == {
        ("tin", "CD", "green", "1")
    }
    assert {(r["First Receipt Date"], r["Last Receipt Date"], r["Smelter Actor ID"]) for r in rows} == {
        (today, today, str(c["smelter"]))
    }
    assert all(r["Mine Name"].startswith("site ") for r in rows)
    assert {(r["Mine Latitude"], r["Mine Longitude"]) for r in rows} == {("-3.060000", "28.180000")}
    assert empty.status_code == 200 and empty.text.startswith("Metal,") and rows_of(empty.text) == []
    assert rows_of(by_operator.text) == rows
    exporters = rows_of(for_the_exporter.text)  # two mine lots of each site reached the exporter
    assert len(exporters) == 2 and {r["Number of Lots"] for r in exporters} == {"2"}


async def test_the_mine_list_refuses_bad_periods_and_an_operator_that_names_no_smelter(stack):
    client = stack.client("traceability", stack.token(org=ORG))
    smelter = stack.client("traceability", smelter_token(stack, uuid4()))

    bad_date = await smelter.get("/mine-list.csv", params={"from": "2026-02-30", "to": "2026-03-01"})
    reversed_ = await smelter.get("/mine-list.csv", params={"from": "2026-03-01", "to": "2026-02-01"})
    no_smelter = await client.get("/mine-list.csv", params={"from": "2026-01-01", "to": "2026-02-01"})
    other_smelter = await smelter.get(
        "/mine-list.csv", params={"from": "2026-01-01", "to": "2026-02-01", "smelter_actor_id": str(uuid4())}
    )

    for response in (bad_date, reversed_, no_smelter):
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
    assert reversed_.json()["code"] == "bad_period" and no_smelter.json()["code"] == "smelter_actor_required"
    assert (other_smelter.status_code, other_smelter.json()["code"]) == (403, "not_your_actor")
    assert date.fromisoformat("2026-03-01")  # the dates above are the API's YYYY-MM-DD
