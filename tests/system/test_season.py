"""A whole season through the four services, each a real API and worker process over the real broker: KYC
approves actors and sites, traceability takes custody, incidents open themselves from KYC and custody causes, a
verified level-1 incident blocks lots and raises risk, closing it releases them. Every effect is checked where it
lands (the service's own API, or its read model), by polling with a deadline."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from libs.common.db import utcnow
from tests.kyc.register_support import actor_body
from tests.kyc.watchlist_files import UN_LIST
from tests.support.processes import wait_until
from tests.support.system import System

ORG = "org-season"
FLOW_TIMEOUT = 30.0  # one effect from its cause to where it lands (a few relay/consumer hops)

pytestmark = pytest.mark.timeout(400)


class Season:
    """The clients of the season's people: a field agent and a reviewer (four eyes), an admin, custody clerks."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.agent = system.client("kyc", org=ORG, user="fiona", roles=("field_agent",))
        self.reviewer = system.client("kyc", org=ORG, user="bob", roles=("analyst",))
        self.kyc_admin = system.client("kyc", org=ORG, user="carol", roles=("admin",))
        self.custody = system.client("traceability", org=ORG, user="tom", roles=("admin",))
        self.incidents = system.client("incidents", org=ORG, user="ines", roles=("analyst",))
        self.scores = system.client("scoring", org=ORG, user="sam", roles=("admin",))

    async def until(self, check: Any, what: str, *, timeout: float = FLOW_TIMEOUT) -> Any:
        return await wait_until(check, timeout=timeout, what=what, diagnostics=lambda: self.system.logs(lines=15))

    # --- KYC -----------------------------------------------------------------------------------------------------

    async def kyc_move(self, http: Any, actor_id: str, action: str, **body: Any) -> Any:
        version = (await http.get(f"/actors/{actor_id}")).json()["version"]
        return await http.post(f"/actors/{actor_id}/{action}", json={"version": version, **body})

    async def registered(self, tag: str, actor_type: str) -> str:
        body = actor_body(
            legal_name=f"{tag} {actor_type.replace('_', ' ').title()} SARL",
            actor_type=actor_type,
            registration_number=f"CD/SEASON/{tag}",
            tax_number=f"T-{tag}",
            aliases=[],
        )
        created = await self.agent.post("/actors", json=body)
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    async def approved(self, tag: str, actor_type: str) -> str:
        """Registered by the field agent, submitted, reviewed and approved by another person (four eyes)."""
        actor_id = await self.registered(tag, actor_type)
        assert (await self.kyc_move(self.agent, actor_id, "submit")).status_code == 200
        own = await self.kyc_move(self.agent, actor_id, "start-review")
        assert own.status_code == 403, f"the field agent reviewed their own actor: {own.text}"
        assert (await self.kyc_move(self.reviewer, actor_id, "start-review")).status_code == 200

        async def approve() -> bool:
            answer = await self.kyc_move(self.reviewer, actor_id, "approve")
            if answer.status_code == 409 and answer.json().get("code") == "screening_pending":
                return False  # the KYC worker screens every 0.5 s
            assert answer.status_code == 200, answer.text
            return True

        await self.until(approve, f"approve {tag}")
        return actor_id

    async def site(self, name: str, operator: str, lon: float, lat: float, region: str = "CD-SK") -> str:
        body = {
            "name": name,
            "operator_actor_id": operator,
            "location": {"type": "Point", "coordinates": [lon, lat]},
            "country": "CD",
            "region": region,
            "minerals": ["2609"],
            "capacity_kg_per_month": 50000,
        }
        created = await self.kyc_admin.post("/sites", json=body)
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    async def inspect(self, site_id: str, result: str, *, days_ago: int = 0) -> None:
        body = {
            "inspection_date": (utcnow().date() - timedelta(days=days_ago)).isoformat(),
            "inspector": "J. Mukendi",
            "agency": "SAEMAPE",
            "result": result,
        }
        answer = await self.reviewer.post(f"/sites/{site_id}/inspections", json=body)
        assert answer.status_code == 201, answer.text

    # --- traceability --------------------------------------------------------------------------------------------

    async def known_in_traceability(self, actor_id: str, status: str) -> None:
        async def known() -> bool:
            answer = await self.custody.get(f"/known-actors/{actor_id}")
            return answer.status_code == 200 and answer.json()["kyc_status"] == status

        await self.until(known, f"traceability knows actor {actor_id} as {status}")

    async def tags(self, site_id: str, prefix: str) -> None:
        async def issued() -> bool:  # the site must be known to traceability first (MineSiteRegistered)
            answer = await self.custody.post(
                "/tag-blocks", json={"prefix": prefix, "first": 1, "count": 20, "site_id": site_id}
            )
            if answer.status_code == 201:
                return True
            assert answer.status_code in (404, 409, 422), answer.text
            return False

        await self.until(issued, f"tags for site {site_id}")

    async def lot(self, site_id: str, producer: str, tag: str, mass: float = 100.0) -> str:
        answer = await self.new_lot(site_id, producer, tag, mass)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["lot_id"])

    async def new_lot(self, site_id: str, producer: str, tag: str, mass: float = 100.0) -> Any:
        body = {"tag": tag, "mineral": "tin", "hs_code": "2609", "form": "ore", "mass": mass, "unit": "KGM",
                "site_id": site_id, "producer_actor_id": producer, "grade_pct": 60}  # fmt: skip
        return await self.custody.post("/lots", json=body)

    async def send(self, lot_id: str, sender: str, receiver: str) -> Any:
        return await self.custody.post(
            f"/lots/{lot_id}/transfers", json={"from_actor_id": sender, "to_actor_id": receiver}
        )

    async def move(self, lot_id: str, sender: str, receiver: str, mass: float = 100.0) -> None:
        sent = await self.send(lot_id, sender, receiver)
        assert sent.status_code == 201, sent.text
        got = await self.custody.post(
            f"/lots/{lot_id}/transfers/confirm", json={"actor_id": receiver, "mass": mass, "unit": "KGM"}
        )
        assert got.status_code == 200, got.text

    async def refused(self, lot_id: str, sender: str, receiver: str, code: str) -> None:
        answer = await self.send(lot_id, sender, receiver)
        assert (answer.status_code, answer.json().get("code")) == (409, code), answer.text

    async def traceability_row(self, table: str, key: str, value: str) -> dict[str, Any] | None:
        conn = await self.system.databases.connect("traceability")
        try:
            row = await conn.fetchrow(f"SELECT * FROM {table} WHERE {key} = $1::uuid", value)
        finally:
            await conn.close()
        return None if row is None else dict(row)

    async def site_in_traceability(self, site_id: str, status: str) -> None:
        async def there() -> bool:
            row = await self.traceability_row("known_site", "site_id", site_id)
            return row is not None and row["status"] == status

        await self.until(there, f"traceability sees site {site_id} {status}")

    async def incident_in_traceability(self, incident_id: str, status: str) -> None:
        async def there() -> bool:
            row = await self.traceability_row("known_incident", "incident_id", incident_id)
            return row is not None and row["status"] == status

        await self.until(there, f"traceability sees incident {incident_id} {status}")

    # --- incidents and scores ------------------------------------------------------------------------------------

    async def incidents_of(self, **where: Any) -> list[dict[str, Any]]:
        answer = await self.incidents.get("/incidents", params={"limit": 500})
        assert answer.status_code == 200, answer.text
        items = answer.json()["items"]
        return [i for i in items if all(_matches(i, k, v) for k, v in where.items())]

    async def one_incident(self, what: str, **where: Any) -> dict[str, Any]:
        async def found() -> dict[str, Any] | None:
            matching = await self.incidents_of(**where)
            assert len(matching) <= 1, f"{what}: {len(matching)} incidents for one cause: {matching}"
            return matching[0] if matching else None

        return dict(await self.until(found, what))

    async def score(self, subject_type: str, subject_id: str) -> dict[str, Any] | None:
        answer = await self.scores.get(f"/scores/{subject_type}/{subject_id}")
        return answer.json() if answer.status_code == 200 else None

    async def traceability_score(self, subject_id: str) -> tuple[float, str] | None:
        conn = await self.system.databases.connect("traceability")
        try:
            row = await conn.fetchrow("SELECT score, band FROM known_score WHERE subject_id = $1::uuid", subject_id)
        finally:
            await conn.close()
        return None if row is None else (float(row["score"]), row["band"])

    async def incidents_know_site(self, site_id: str) -> bool:
        conn = await self.system.databases.connect("incidents")
        try:
            return bool(await conn.fetchval("SELECT count(*) FROM known_site WHERE site_id = $1::uuid", site_id))
        finally:
            await conn.close()


def _matches(incident: dict[str, Any], key: str, value: Any) -> bool:
    if key == "cause_prefix":
        return str(incident.get("cause") or "").startswith(value)
    if key in ("site_id", "actor_id", "lot_id"):
        return value in [str(x) for x in incident[key + "s"]]
    return bool(incident.get(key) == value)


async def test_a_season_across_the_four_services(system: System) -> None:
    began = time.monotonic()
    await system.start()
    started = time.monotonic()
    s = Season(system)

    # KYC: a watchlist, the programme's actors approved with four eyes, mine sites with their operators.
    watchlist = (
        await s.kyc_admin.post("/watchlists", json={"name": "UN SC", "format": "un_xml", "source": "https://un.org"})
    ).json()
    upload = await s.kyc_admin.post(
        f"/watchlists/{watchlist['id']}/imports", files={"file": ("un.xml", UN_LIST, "application/xml")}
    )
    assert upload.status_code == 201, upload.text
    coop_a = await s.approved("Kalimbi", "cooperative")
    coop_b = await s.approved("Nyabibwe", "cooperative")
    coop_c = await s.approved("Lemera", "asm_producer")
    trader = await s.approved("Bukavu", "trader")
    exporter = await s.approved("Goma", "exporter")
    smelter = await s.approved("Penang", "smelter_refiner")
    site_a = await s.site("Kalimbi pits", coop_a, 28.93, -2.13)
    site_b = await s.site("Nyabibwe hill", coop_b, 28.95, -2.02)
    site_c = await s.site("Lemera river", coop_c, 29.02, -3.03)
    for site_id in (site_a, site_b, site_c):
        await s.inspect(site_id, "green")
    for actor in (coop_a, coop_b, coop_c, trader, exporter, smelter):
        await s.known_in_traceability(actor, "approved")
    kyc_done = time.monotonic()

    # Traceability: lots from the sites, transfers, a merge, a split, export and receipt.
    for prefix, site_id in (("KA-", site_a), ("NY-", site_b), ("LE-", site_c)):
        await s.tags(site_id, prefix)
    season = [
        await s.lot(site_a, coop_a, "KA-1"),
        await s.lot(site_a, coop_a, "KA-2"),
        await s.lot(site_c, coop_c, "LE-1"),
    ]
    for lot_id, producer in zip(season, (coop_a, coop_a, coop_c), strict=True):
        await s.move(lot_id, producer, trader)
        await s.move(lot_id, trader, exporter)
    merged = await s.custody.post("/transformations", json={"kind": "merge", "actor_id": exporter,
        "input_lot_ids": season, "outputs": [{"mass": 300, "unit": "KGM", "form": "concentrate"}]})  # fmt: skip
    assert merged.status_code == 201, merged.text
    (blend,) = merged.json()["output_lot_ids"]
    split = await s.custody.post("/transformations", json={"kind": "split", "actor_id": exporter,
        "input_lot_ids": [blend], "outputs": [{"mass": 200, "unit": "KGM"}, {"mass": 100, "unit": "KGM"}]})  # fmt: skip
    assert split.status_code == 201, split.text
    shipment, remainder = split.json()["output_lot_ids"]
    exported = await s.custody.post(f"/lots/{shipment}/export", json={"actor_id": exporter,
        "export_certificate": "CD-EXP-2026-1", "country": "CD", "border_point": "Goma"})  # fmt: skip
    assert exported.status_code == 201, exported.text
    await s.move(shipment, exporter, smelter, 200.0)
    received = await s.custody.post(f"/lots/{shipment}/receipt", json={"smelter_actor_id": smelter})
    assert received.status_code == 201, received.text
    up = (await s.custody.get(f"/lots/{shipment}/lineage", params={"direction": "up"})).json()
    assert sorted(up["site_ids"]) == sorted([site_a, site_c])
    held_a = await s.lot(site_a, coop_a, "KA-3")  # stays with the cooperative: blocked and released below
    held_b = await s.lot(site_b, coop_b, "NY-1")
    custody_done = time.monotonic()

    # A site turned red in KYC: exactly one incident, and that site's lots blocked in traceability.
    await s.inspect(site_b, "red")
    red = await s.one_incident("an incident for the red site", cause=f"kyc.site_red:{site_b}")
    assert red["source"] == "automatic" and site_b in [str(x) for x in red["site_ids"]]
    await s.site_in_traceability(site_b, "red")
    await s.refused(held_b, coop_b, trader, "lot_blocked")
    # Fired again (green, then red again): the same incident is updated, not duplicated.
    await s.inspect(site_b, "green")
    await s.site_in_traceability(site_b, "green")
    await s.move(held_b, coop_b, trader)  # green again: its lot moves
    await s.inspect(site_b, "red")
    await s.until(lambda: _updated_beyond(s, red), "the red-site incident updated by the second red")
    assert len(await s.incidents_of(cause=f"kyc.site_red:{site_b}")) == 1
    await s.site_in_traceability(site_b, "red")
    await s.refused(held_b, trader, exporter, "lot_blocked")

    # A confirmed sanctions hit: one incident naming the actor.
    listed = await s.registered("Mulumba", "trader")
    person = await s.agent.post(f"/actors/{listed}/persons", json={"person_type": "natural",
        "full_name": "Jean-Pierre Mulumba", "role": "beneficial_owner", "birth_date": "1971-01-05"})  # fmt: skip
    assert person.status_code == 201, person.text

    async def pending_hit() -> str | None:
        hits = (await s.reviewer.get("/screening/hits", params={"status": "pending", "limit": 100})).json()["items"]
        return next((h["id"] for h in hits if str(h["actor_id"]) == listed), None)

    hit = await s.until(pending_hit, "screening raises a hit on the listed person")
    confirmed = await s.reviewer.post(f"/screening/hits/{hit}/confirm", json={"reason": "same passport"})
    assert confirmed.status_code == 200, confirmed.text
    await s.one_incident("an incident for the confirmed hit", cause=f"kyc.hit:{hit}")

    # An expired licence of a producer with active sites: one incident naming the producer and its site.
    await s.until(lambda: s.incidents_know_site(site_c), "incidents know the producer's site")
    expired = await s.agent.post(f"/actors/{coop_c}/licences", json={"licence_type": "mining_title",
        "issuer": "Division des Mines Sud-Kivu", "number": "SK-ASM-2024-7", "valid_from": "2024-01-01",
        "valid_to": (utcnow().date() - timedelta(days=1)).isoformat()})  # fmt: skip
    assert expired.status_code == 201, expired.text
    licence = await s.one_incident(
        "an incident for the expired licence", cause=f"kyc.licence_expired:{expired.json()['id']}"
    )
    assert site_c in [str(x) for x in licence["site_ids"]] and coop_c in [str(x) for x in licence["actor_ids"]]

    # Custody anomalies: a tag used twice, a weight discrepancy on a transfer: one incident each.
    reused = await s.new_lot(site_a, coop_a, "KA-1")
    assert (reused.status_code, reused.json()["code"]) == (409, "tag_used")
    light = await s.lot(site_c, coop_c, "LE-2")
    await s.move(light, coop_c, trader, 80.0)
    await s.one_incident(
        "an incident for the reused tag", cause_prefix="traceability.anomaly:", title="Custody anomaly: tag_reuse"
    )
    await s.one_incident(
        "an incident for the weight discrepancy", cause_prefix="traceability.anomaly:",
        title="Custody anomaly: weight_discrepancy",
    )  # fmt: skip
    again = await s.new_lot(site_a, coop_a, "KA-1")  # the same cause again: still one incident
    assert again.status_code == 409
    automatic_done = time.monotonic()

    # A verified level-1 incident naming site A and the trader: lots blocked, risk raised; closed: released, lowered.
    await s.until(s.system.caught_up, "every consumer has applied every event so far")
    before = await s.score("site", site_a)
    trader_before = await s.score("actor", trader)
    assert before is not None and trader_before is not None
    assert await s.traceability_score(site_a) == (before["score"], before["band"])
    report = await s.incidents.post("/incidents", json={"category": "annex2.forced_labour",
        "title": "Forced labour at the Kalimbi pits", "summary": "Diggers held against their will", "country": "CD",
        "region": "CD-SK", "mineral": "tin", "occurred_on": utcnow().date().isoformat(), "place": "Kalimbi",
        "site_ids": [site_a], "actor_ids": [trader]})  # fmt: skip
    assert report.status_code == 201 and report.json()["level"] == 1, report.text
    path = f"/incidents/{report.json()['id']}"
    for step in ("triage", "verify"):
        assert (await s.incidents.post(f"{path}/{step}")).status_code == 200
    incident_id = str(report.json()["id"])
    await s.incident_in_traceability(incident_id, "verified")
    await s.refused(held_a, coop_a, exporter, "lot_blocked")
    await s.until(s.system.caught_up, "every consumer has applied the verification")
    raised, trader_raised = await s.score("site", site_a), await s.score("actor", trader)
    assert raised is not None and trader_raised is not None
    assert raised["score"] > before["score"] and trader_raised["score"] > trader_before["score"], (
        before, raised, trader_before, trader_raised,
    )  # fmt: skip
    assert "open_incidents_level_1" in {f["factor"] for f in raised["factors"]}, raised
    assert await s.traceability_score(site_a) == (raised["score"], raised["band"])
    assert (await s.incidents.post(f"{path}/resolve")).status_code == 200
    closed = await s.incidents.post(f"{path}/close", json={"outcome": "workers freed, site re-audited"})
    assert closed.status_code == 200, closed.text
    await s.incident_in_traceability(incident_id, "closed")
    await s.move(held_a, coop_a, exporter)  # closed: the site's lot moves again
    await s.until(s.system.caught_up, "every consumer has applied the closing")
    lowered, trader_lowered = await s.score("site", site_a), await s.score("actor", trader)
    assert lowered is not None and trader_lowered is not None
    assert lowered["score"] < raised["score"] and trader_lowered["score"] < trader_raised["score"], (
        raised, lowered, trader_raised, trader_lowered,
    )  # fmt: skip
    assert await s.traceability_score(site_a) == (lowered["score"], lowered["band"])
    incident_done = time.monotonic()

    # A suspension in KYC: traceability refuses custody to that actor.
    assert (await s.kyc_move(s.reviewer, trader, "suspend", reason="audit")).status_code == 200
    await s.known_in_traceability(trader, "suspended")
    await s.refused(held_a, exporter, trader, "actor_not_approved")
    finished = time.monotonic()
    print(
        f"\nSEASON FIGURES start={started - began:.1f}s kyc={kyc_done - started:.1f}s "
        f"custody={custody_done - kyc_done:.1f}s automatic_incidents={automatic_done - custody_done:.1f}s "
        f"level1_block_release={incident_done - automatic_done:.1f}s suspension={finished - incident_done:.1f}s "
        f"total={finished - began:.1f}s scores site_a {before['score']}->{raised['score']}->{lowered['score']} "
        f"trader {trader_before['score']}->{trader_raised['score']}->{trader_lowered['score']}"
    )
    assert remainder


async def _updated_beyond(s: Season, incident: dict[str, Any]) -> bool:
    answer = await s.incidents.get(f"/incidents/{incident['id']}")
    return bool(answer.status_code == 200 and answer.json()["version"] > incident["version"])
