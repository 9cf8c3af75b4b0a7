"""`python -m deploy.demo`: load a realistic demo programme into a running platform (`make run`), through the public
APIs only; `python -m deploy.demo receive --port 9999 --secret whsec_...`: a partner's webhook receiver that prints
the verified Standard Webhooks deliveries it gets.

The programme: one operator (the Great Lakes upstream mechanism), cooperatives, traders, exporters and two smelters
from DRC, Rwanda, Uganda, Peru and Colombia; mine sites at real places; licences (some near expiry); a season of tin
lots from two sites through a trader and an exporter, merged, split, exported and received at both smelters;
incidents reported, verified with a mitigation plan, and closed; two CRAFT assessments of one cooperative showing
progress; a small sanctions list whose entry resembles one trader's name, leaving a hit under review.

It runs once, on an empty platform: when the operator already has actors it refuses with exit code 3. What it made
(ids, lot ids for the README walkthrough) is written to var/demo.json. Waiting on the platform (screening, KYC
approvals reaching traceability) is polling with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx

from libs.common.auth import issue_token
from libs.common.settings import VAR_DIR, ServiceSettings

ORG = "great-lakes-mechanism"
SERVICES = {"kyc": 8001, "incidents": 8002, "traceability": 8003, "scoring": 8004}
MARKER = VAR_DIR / "demo.json"
EXISTS = 3  # exit code: the programme is already loaded
FAILED = 1
WAIT_SECONDS = float(os.environ.get("DEMO_WAIT_SECONDS", "180"))
T = TypeVar("T")

# Who acts, as `make token` would sign them: (user, organisation kind, roles). Every one is in the operator's
# programme (a token's org is the programme; the kind says who the caller is).
USERS = {
    "admin": ("alice.admin", "operator", ["admin"]),
    "reviewer": ("bob.reviewer", "operator", ["admin", "analyst"]),  # the second pair of eyes
    "analyst": ("ana.analyst", "operator", ["analyst"]),
    "field": ("fiona.field", "operator", ["field_agent"]),
    "smelter": ("sam.smelter", "smelter", ["analyst"]),
    "partner": ("pat.partner", "partner", ["analyst"]),
}

WATCHLIST_CSV = (
    "id,name,kind,aliases,birth_date,country,identifiers,program\n"
    "DEMO-001,Comptoir Minier des Grands Lacs,organization,CMGL,,CD,,DRC sanctions (demo)\n"
    "DEMO-002,Zebulon Kwangwari Ostrowski,person,,1961-03-14,ZZ,,DRC sanctions (demo)\n"
    "DEMO-003,Transoceanic Bullion Holdings FZE,organization,,,AE,,DRC sanctions (demo)\n"
)

# key: (actor_type, legal name, country, region, registration number, city, minerals, owner)
ACTORS: dict[str, tuple[str, str, str, str | None, str, str, list[str], str]] = {
    "coop_nyabibwe": (
        "cooperative",
        "Coopérative Minière de Nyabibwe",
        "CD",
        "CD-SK",
        "CD/BKV/COOP/2019-031",
        "Nyabibwe",
        ["2609"],
        "Espérance Bahati Mirindi",
    ),
    "coop_kalima": (
        "cooperative",
        "Coopérative des Exploitants Artisanaux de Kalima",
        "CD",
        "CD-MA",
        "CD/KND/COOP/2018-112",
        "Kalima",
        ["2609", "261590"],
        "Didier Lokenye Amisi",
    ),
    "coop_kamituga": (
        "cooperative",
        "Coopérative Aurifère de Kamituga",
        "CD",
        "CD-SK",
        "CD/BKV/COOP/2020-007",
        "Kamituga",
        ["7108"],
        "Claudine Mapendo Furaha",
    ),
    "coop_kambove": (
        "cooperative",
        "Coopérative Minière Artisanale de Kambove",
        "CD",
        "CD-HK",
        "CD/LSH/COOP/2021-044",
        "Kambove",
        ["2605"],
        "Patrick Ilunga Kalenga",
    ),
    "coop_rulindo": (
        "cooperative",
        "Rulindo Tungsten Miners Cooperative",
        "RW",
        "RW-03",
        "RW/RDB/COOP/104881",
        "Rulindo",
        ["2611"],
        "Jeanne Uwimana Mukamana",
    ),
    "coop_busia": (
        "cooperative",
        "Busia Artisanal Gold Miners Association",
        "UG",
        "UG-E",
        "UG/URSB/80020031",
        "Busia",
        ["7108"],
        "Moses Wafula Ouma",
    ),
    "coop_huepetuhe": (
        "cooperative",
        "Cooperativa Minera Aurífera Huepetuhe",
        "PE",
        "PE-MDD",
        "PE/20601234567",
        "Huepetuhe",
        ["7108"],
        "Rosa Quispe Mamani",
    ),
    "coop_segovia": (
        "cooperative",
        "Cooperativa de Mineros de Segovia",
        "CO",
        "CO-ANT",
        "CO/900456123-1",
        "Segovia",
        ["7108"],
        "Luis Fernando Restrepo Gil",
    ),
    "trader_bukavu": (
        "trader",
        "Maison d'Achat Kivu Étain SARL",
        "CD",
        "CD-SK",
        "CD/BKV/RCCM/17-B-0412",
        "Bukavu",
        ["2609", "261590"],
        "Célestin Birindwa Cirimwami",
    ),
    "trader_kindu": (
        "trader",
        "Comptoir Minier des Grands Lacs SARL",
        "CD",
        "CD-MA",
        "CD/KND/RCCM/16-B-0098",
        "Kindu",
        ["2609"],
        "Augustin Salumu Kasongo",
    ),
    "exporter_bukavu": (
        "exporter",
        "Grands Lacs Minerals Export SA",
        "CD",
        "CD-SK",
        "CD/BKV/RCCM/12-B-0201",
        "Bukavu",
        ["2609", "261590", "2611"],
        "Nadine Cikuru Bisimwa",
    ),
    "exporter_kigali": (
        "exporter",
        "Kigali Mineral Exports Ltd",
        "RW",
        "RW-01",
        "RW/RDB/103992817",
        "Kigali",
        ["2609", "2611"],
        "Eric Habimana Nkurunziza",
    ),
    "smelter_penang": (
        "smelter_refiner",
        "Straits Tin Refining Sdn Bhd",
        "MY",
        "MY-07",
        "MY/SSM/201901012345",
        "Butterworth",
        ["2609"],
        "Tan Wei Ming",
    ),
    "smelter_kigali": (
        "smelter_refiner",
        "Rwanda Tin Smelting Works Ltd",
        "RW",
        "RW-01",
        "RW/RDB/108877665",
        "Kigali",
        ["2609", "2611"],
        "Alice Mukeshimana Ingabire",
    ),
}
HIT_ACTOR = "trader_kindu"  # resembles DEMO-001 of the list: screening raises a hit, left under review
LICENCES = {  # key: (licence type, issuer, number, valid for days from today); short ones are near expiry
    "coop_nyabibwe": ("mining_title", "Cadastre Minier, Sud-Kivu", "ZEA-SK-0457", 700),
    "coop_kalima": ("mining_title", "Cadastre Minier, Maniema", "ZEA-MA-0121", 24),
    "coop_kamituga": ("mining_title", "Cadastre Minier, Sud-Kivu", "ZEA-SK-0613", 400),
    "coop_kambove": ("mining_title", "Cadastre Minier, Haut-Katanga", "ZEA-HK-0088", 45),
    "coop_rulindo": ("mining_title", "Rwanda Mines, Petroleum and Gas Board", "RMB-SML-2023-017", 900),
    "coop_busia": ("mining_title", "Directorate of Geological Survey and Mines", "UG-ASM-LOC-1187", 300),
    "coop_huepetuhe": ("mining_title", "REINFO, Madre de Dios", "REINFO-MDD-44871", 15),
    "coop_segovia": ("mining_title", "Agencia Nacional de Minería", "ANM-HJ7-11051", 600),
    "trader_bukavu": ("trader_card", "Division des Mines, Sud-Kivu", "SK-NEG-2026-031", 180),
    "trader_kindu": ("trader_card", "Division des Mines, Maniema", "MA-NEG-2026-009", 200),
    "exporter_bukavu": ("export_licence", "Ministère des Mines, RDC", "CD-EXP-2026-014", 30),
    "exporter_kigali": ("export_licence", "Rwanda Mines, Petroleum and Gas Board", "RMB-EXP-2026-022", 500),
    "smelter_penang": ("export_licence", "Ministry of Natural Resources, Malaysia", "MY-MIN-2026-0045", 800),
    "smelter_kigali": ("export_licence", "Rwanda Mines, Petroleum and Gas Board", "RMB-SMT-2026-003", 800),
}
# key: (name, [longitude, latitude], country, region, minerals, operator key, capacity kg/month, inspection)
SITES: dict[str, tuple[str, list[float], str, str, list[str], str, float, str | None]] = {
    "nyabibwe": ("Nyabibwe, Kalehe", [28.936, -1.927], "CD", "CD-SK", ["2609"], "coop_nyabibwe", 30000, "green"),
    "kalima": ("Kalima, Pangi", [26.435, -2.510], "CD", "CD-MA", ["2609", "261590"], "coop_kalima", 25000, "green"),
    "kamituga": ("Kamituga, Mwenga", [28.180, -3.060], "CD", "CD-SK", ["7108"], "coop_kamituga", 40, "yellow"),
    "kambove": ("Kambove, Haut-Katanga", [26.597, -10.876], "CD", "CD-HK", ["2605"], "coop_kambove", 80000, None),
    "nyakabingo": ("Nyakabingo, Rulindo", [29.960, -1.820], "RW", "RW-03", ["2611"], "coop_rulindo", 12000, "green"),
    "busia": ("Tiira, Busia", [34.050, 0.480], "UG", "UG-E", ["7108"], "coop_busia", 20, None),
    "huepetuhe": ("Huepetuhe, Manu", [-70.520, -12.980], "PE", "PE-MDD", ["7108"], "coop_huepetuhe", 60, "yellow"),
    "segovia": ("El Silencio, Segovia", [-74.700, 7.080], "CO", "CO-ANT", ["7108"], "coop_segovia", 50, "green"),
}


@dataclass
class Platform:
    """The four APIs, each reached directly on its port or under one gateway address (/kyc, /incidents, ...)."""

    urls: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    def call(self, service: str, who: str, method: str, path: str, *, ok: Sequence[int] = (200, 201), **kw: Any):
        response = self.http.request(
            method, self.urls[service] + path, headers={"Authorization": f"Bearer {self.tokens[who]}"}, **kw
        )
        if response.status_code not in ok:
            raise DemoError(f"{method} {service}{path} as {who}: {response.status_code} {response.text[:500]}")
        return response

    def get(self, service: str, who: str, path: str, **kw: Any) -> Any:
        return self.call(service, who, "GET", path, **kw).json()

    def post(self, service: str, who: str, path: str, body: Any = None, **kw: Any) -> Any:
        response = self.call(service, who, "POST", path, json=body, **kw)
        return response.json() if response.content else None


class DemoError(Exception):
    pass


def platform_from(args: argparse.Namespace) -> Platform:
    if args.gateway:
        base = args.gateway.rstrip("/")
        urls = {s: f"{base}/{s}" for s in SERVICES}
    else:
        base = args.base_url.rstrip("/")
        urls = {s: f"{base}:{int(os.environ.get(f'{s.upper()}_PORT', p))}" for s, p in SERVICES.items()}
    platform = Platform(urls)
    settings = ServiceSettings()
    for who, (user, kind, roles) in USERS.items():
        platform.tokens[who] = issue_token(settings, user_id=user, org_id=ORG, org_kind=kind, roles=roles)
    return platform


def eventually(check: Callable[[], T | None], what: str, seconds: float = WAIT_SECONDS) -> T:
    """Poll `check` until it returns something, for at most `seconds`."""
    deadline, pause = time.monotonic() + seconds, 0.1
    while True:
        result = check()
        if result is not None and result is not False:
            return result
        if time.monotonic() > deadline:
            raise DemoError(f"gave up waiting for {what} after {seconds:.0f}s")
        time.sleep(pause)  # a poll interval, not a synchronisation: the condition is checked again
        pause = min(pause * 1.5, 1.0)


def say(text: str) -> None:
    print(text, flush=True)


# ---------------------------------------------------------------------------------------------------------- KYC


def load(p: Platform) -> dict[str, Any]:
    today = date.today()
    existing = p.get("kyc", "admin", "/actors", params={"limit": 1})
    if existing.get("total", len(existing.get("items", []))):
        raise Exists(f"organisation {ORG!r} already has actors: the demo programme is loaded (see {MARKER})")
    made: dict[str, Any] = {"org": ORG, "actors": {}, "sites": {}, "lots": {}, "incidents": {}, "assessments": {}}

    say("watchlist: a small sanctions list")
    watchlist = p.post("kyc", "admin", "/watchlists", {"name": "Demo sanctions list", "format": "csv",
                                                       "source": "written for the Assay demo"})  # fmt: skip
    p.call("kyc", "admin", "POST", f"/watchlists/{watchlist['id']}/imports",
           files={"file": ("demo-sanctions.csv", WATCHLIST_CSV.encode(), "text/csv")})  # fmt: skip
    made["watchlist_id"] = watchlist["id"]

    say(f"actors: {len(ACTORS)} (cooperatives, traders, exporters, two smelters), owners and licences")
    for key, (kind, name, country, region, number, city, minerals, owner) in ACTORS.items():
        body = {
            "actor_type": kind, "legal_name": name, "registration_number": number, "country": country,
            "region": region, "minerals": minerals,
            "addresses": [{"kind": "registered", "street": f"Bureau principal, {city}", "city": city,
                           "country": country, "region": region}],
            "contacts": [{"name": owner, "role": "manager", "email": f"contact@{key.replace('_', '-')}.example"}],
        }  # fmt: skip
        actor = p.post("kyc", "field", "/actors", body)
        p.post("kyc", "field", f"/actors/{actor['id']}/persons", {
            "person_type": "natural", "full_name": owner, "role": "beneficial_owner", "nationality": country,
            "ownership_pct": 100 if kind == "cooperative" else 60,
        })  # fmt: skip
        licence_type, issuer, licence_no, days = LICENCES[key]
        p.post("kyc", "field", f"/actors/{actor['id']}/licences", {
            "licence_type": licence_type, "issuer": issuer, "number": licence_no,
            "valid_from": (today - timedelta(days=365)).isoformat(),
            "valid_to": (today + timedelta(days=days)).isoformat(),
        })  # fmt: skip
        made["actors"][key] = actor["id"]

    say(f"mine sites: {len(SITES)} (South Kivu, Maniema, Haut-Katanga, Rulindo, Busia, Madre de Dios, Antioquia)")
    for key, (name, point, country, region, minerals, operator, capacity, result) in SITES.items():
        site = p.post("kyc", "analyst", "/sites", {
            "name": name, "location": {"type": "Point", "coordinates": point}, "country": country,
            "region": region, "minerals": minerals, "operator_actor_id": made["actors"][operator],
            "capacity_kg_per_month": capacity,
        })  # fmt: skip
        if result is not None:
            p.post("kyc", "reviewer", f"/sites/{site['id']}/inspections", {
                "inspection_date": (today - timedelta(days=20)).isoformat(), "inspector": "Joint validation team",
                "agency": "Ministry of Mines with civil society", "result": result,
                "notes": "Demo programme: baseline validation visit.",
            })  # fmt: skip
        made["sites"][key] = site["id"]

    say("four-eyes review: submitted by the field agent, reviewed by the analyst, approved by a second reviewer")
    for actor_id in made["actors"].values():
        move(p, "field", actor_id, "submit")
        move(p, "analyst", actor_id, "start-review")
    for key, actor_id in made["actors"].items():
        screened = eventually(lambda a=actor_id: _screened(p, a), f"screening of {ACTORS[key][1]}")
        if key == HIT_ACTOR:
            if not screened["pending_hits"]:
                raise DemoError(f"screening raised no hit on {ACTORS[key][1]}; the demo list should match it")
            continue  # left under review with its pending hit
        move(p, "reviewer", actor_id, "approve")
    hits = p.get("kyc", "analyst", "/screening/hits", params={"status": "pending"})
    made["hit_ids"] = [h["id"] for h in hits["items"]]
    say(f"  {len(made['actors']) - 1} approved; {hits['total']} sanctions hit(s) under review")

    season(p, made)
    incidents(p, made, today)
    assessments(p, made)
    return made


class Exists(DemoError):
    pass


def move(p: Platform, who: str, actor_id: str, action: str, **body: Any) -> Any:
    version = p.get("kyc", who, f"/actors/{actor_id}")["version"]
    return p.post("kyc", who, f"/actors/{actor_id}/{action}", {"version": version, **body})


def _screened(p: Platform, actor_id: str) -> dict[str, Any] | None:
    state = p.get("kyc", "analyst", f"/actors/{actor_id}/screening")
    return state if state["pending_screenings"] == 0 and state["last_screened_at"] else None


# ------------------------------------------------------------------------------------------------ traceability


def season(p: Platform, made: dict[str, Any]) -> None:
    actors, sites = made["actors"], made["sites"]
    holders = ["coop_nyabibwe", "coop_kalima", "coop_rulindo", "trader_bukavu", "exporter_bukavu",
               "exporter_kigali", "smelter_penang", "smelter_kigali"]  # fmt: skip
    say("traceability: waiting for the KYC approvals to reach its read model")
    for key in holders:
        eventually(lambda a=actors[key]: _known_approved(p, a), f"{ACTORS[key][1]} approved in traceability")

    say("a season of tin: lots at Nyabibwe and Kalima, through Bukavu, merged, split, exported, smelted")
    for key, prefix in (("nyabibwe", "NYA-26-"), ("kalima", "KAL-26-"), ("nyakabingo", "NYK-26-")):
        block = {"prefix": prefix, "first": 1, "count": 200, "site_id": sites[key]}
        eventually(lambda b=block: _tags_issued(p, b), f"tags for {key} (the site known to traceability)")
    lots: dict[str, str] = {}
    plan = [("nya1", "nyabibwe", "coop_nyabibwe", "NYA-26-1", 820.0), ("nya2", "nyabibwe", "coop_nyabibwe",
            "NYA-26-2", 760.0), ("kal1", "kalima", "coop_kalima", "KAL-26-1", 640.0),
            ("kal2", "kalima", "coop_kalima", "KAL-26-2", 590.0)]  # fmt: skip
    for name, site, producer, tag, mass in plan:
        lots[name] = new_lot(p, sites[site], actors[producer], tag, "tin", "2609", mass, grade=62.5)
        transfer(p, lots[name], actors[producer], actors["trader_bukavu"], mass)
        transfer(p, lots[name], actors["trader_bukavu"], actors["exporter_bukavu"], mass)
    blend = p.post("traceability", "field", "/transformations", {
        "kind": "merge", "actor_id": actors["exporter_bukavu"], "input_lot_ids": [lots[n] for n, *_ in plan],
        "outputs": [{"mass": 2810, "unit": "KGM", "form": "concentrate", "grade_pct": 63.0}],
    })["output_lot_ids"][0]  # fmt: skip
    lots["blend"] = blend
    halves = p.post("traceability", "field", "/transformations", {
        "kind": "split", "actor_id": actors["exporter_bukavu"], "input_lot_ids": [blend],
        "outputs": [{"mass": 1.8, "unit": "TNE"}, {"mass": 1010, "unit": "KGM"}],
    })["output_lot_ids"]  # fmt: skip
    lots["shipment_penang"], lots["shipment_kigali"] = halves
    for lot, smelter, mass, cert, border in (
        (halves[0], "smelter_penang", 1800.0, "CD-CEEC-2026-00871", "Bukavu–Rusizi I"),
        (halves[1], "smelter_kigali", 1010.0, "CD-CEEC-2026-00872", "Bukavu–Rusizi I"),
    ):
        p.post("traceability", "field", f"/lots/{lot}/export", {"actor_id": actors["exporter_bukavu"],
               "export_certificate": cert, "country": "CD", "border_point": border})  # fmt: skip
        # The operator records custody, the smelter's weighing and receipt included; smelters only read.
        transfer(p, lot, actors["exporter_bukavu"], actors[smelter], mass, confirmer="analyst")
        p.post("traceability", "analyst", f"/lots/{lot}/receipt", {"smelter_actor_id": actors[smelter]})
    lots["wolframite"] = new_lot(p, sites["nyakabingo"], actors["coop_rulindo"], "NYK-26-1", "tungsten", "2611",
                                 430.0, grade=58.0)  # fmt: skip
    transfer(p, lots["wolframite"], actors["coop_rulindo"], actors["exporter_kigali"], 430.0)
    lots["nya3"] = new_lot(p, sites["nyabibwe"], actors["coop_nyabibwe"], "NYA-26-3", "tin", "2609", 700.0)
    made["lots"] = lots
    say(f"  {len(lots)} lots; shipment to Penang: {lots['shipment_penang']}")


def _tags_issued(p: Platform, block: dict[str, Any]) -> bool:
    """Tags go only to a site traceability knows: 422 unknown_site until KYC's event has reached it."""
    response = p.call("traceability", "field", "POST", "/tag-blocks", json=block, ok=(201, 422))
    if response.status_code == 422 and response.json().get("code") != "unknown_site":
        raise DemoError(f"POST traceability/tag-blocks: {response.text[:500]}")
    return response.status_code == 201


def _known_approved(p: Platform, actor_id: str) -> bool:
    response = p.call("traceability", "admin", "GET", f"/known-actors/{actor_id}", ok=(200, 404))
    return response.status_code == 200 and response.json()["kyc_status"] == "approved"


def new_lot(p: Platform, site_id: str, producer: str, tag: str, mineral: str, hs: str, mass: float,
            grade: float | None = None) -> str:  # fmt: skip
    body = {"tag": tag, "mineral": mineral, "hs_code": hs, "form": "ore", "mass": mass, "unit": "KGM",
            "site_id": site_id, "producer_actor_id": producer, "grade_pct": grade}  # fmt: skip

    def created() -> str | None:  # the site may not have reached traceability yet: 422 unknown_site until it has
        response = p.call("traceability", "field", "POST", "/lots", json=body, ok=(201, 422))
        if response.status_code == 201:
            return str(response.json()["lot_id"])
        if response.json().get("code") != "unknown_site":
            raise DemoError(f"POST /lots {tag}: {response.text[:500]}")
        return None

    return eventually(created, f"site {site_id} known to traceability")


def transfer(p: Platform, lot: str, sender: str, receiver: str, mass: float, *, confirmer: str = "field") -> None:
    p.post("traceability", "field", f"/lots/{lot}/transfers", {"from_actor_id": sender, "to_actor_id": receiver})
    p.post("traceability", confirmer, f"/lots/{lot}/transfers/confirm",
           {"actor_id": receiver, "mass": mass, "unit": "KGM"})  # fmt: skip


# ------------------------------------------------------------------------------------------------ incidents


def incidents(p: Platform, made: dict[str, Any], today: date) -> None:
    actors, sites = made["actors"], made["sites"]
    say("incidents: one reported by a partner, one verified with a mitigation plan, one closed")
    reported = p.post("incidents", "partner", "/incidents", {
        "category": "labour_community.community", "title": "Dispute over pit access at Tiira",
        "summary": "Community members say diggers from outside the association were given the new pits.",
        "country": "UG", "region": "UG-E", "mineral": "gold", "occurred_on": (today - timedelta(days=3)).isoformat(),
        "place": "Tiira, Busia", "site_ids": [sites["busia"]], "actor_ids": [actors["coop_busia"]],
    })  # fmt: skip
    verified = p.post("incidents", "field", "/incidents", {
        "category": "security_forces.illegal_control", "title": "Roadblock taxation on the Kalima–Kindu road",
        "summary": "Soldiers levy an unofficial fee per sack of cassiterite at a roadblock 12 km from Kalima.",
        "country": "CD", "region": "CD-MA", "mineral": "tin", "occurred_on": (today - timedelta(days=9)).isoformat(),
        "place": "Road Kalima–Kindu, km 12", "site_ids": [sites["kalima"]], "actor_ids": [actors["coop_kalima"]],
    })  # fmt: skip
    p.post("incidents", "analyst", f"/incidents/{verified['id']}/triage")
    p.post("incidents", "analyst", f"/incidents/{verified['id']}/verify")
    p.post("incidents", "analyst", f"/incidents/{verified['id']}/mitigation", {"actions": [
        {"title": "Raise the roadblock with the provincial mining authority and MONUSCO liaison",
         "owner": "ana.analyst", "due_date": (today + timedelta(days=14)).isoformat()},
        {"title": "Escort convoys with the mining police (PMH) until the roadblock is removed",
         "owner": "Coopérative de Kalima", "due_date": (today + timedelta(days=30)).isoformat()},
    ]})  # fmt: skip
    closed = p.post("incidents", "field", "/incidents", {
        "category": "environment.mercury", "title": "Mercury amalgamation seen at Kamituga processing point",
        "summary": "Open-air amalgamation next to the river; the cooperative agreed to move to a retort.",
        "country": "CD", "region": "CD-SK", "mineral": "gold", "occurred_on": (today - timedelta(days=40)).isoformat(),
        "place": "Kamituga, Mobale", "site_ids": [sites["kamituga"]], "actor_ids": [actors["coop_kamituga"]],
    })  # fmt: skip
    path = f"/incidents/{closed['id']}"
    p.post("incidents", "analyst", f"{path}/triage")
    p.post("incidents", "analyst", f"{path}/verify")
    planned = p.post("incidents", "analyst", f"{path}/mitigation", {"actions": [
        {"title": "Install a mercury retort and train the processing team", "owner": "Coopérative Aurifère de Kamituga",
         "due_date": (today + timedelta(days=7)).isoformat()},
    ]})  # fmt: skip
    for action in planned["actions"]:
        p.call("incidents", "analyst", "PATCH", f"{path}/actions/{action['id']}",
               json={"status": "done", "note": "Retort in use; checked on a follow-up visit."})  # fmt: skip
    p.post("incidents", "analyst", f"{path}/resolve")
    p.post("incidents", "analyst", f"{path}/close", {"outcome": "Retort in use; no open amalgamation seen since."})
    made["incidents"] = {"reported": reported["id"], "verified": verified["id"], "closed": closed["id"]}


# ------------------------------------------------------------------------------------------------ scoring


def assessments(p: Platform, made: dict[str, Any]) -> None:
    """Two reviewed CRAFT assessments of the Nyabibwe cooperative (the second better), and a draft for Kalima."""
    say("scoring: CRAFT assessments of the Nyabibwe cooperative showing progress; a draft for Kalima")
    framework = p.get("scoring", "analyst", "/frameworks/craft/2.0")
    ids = [r["id"] for r in framework["requirements"]]
    first = {r: ("met" if r[0] in "23" else "partly_met" if r[0] in "14" else "not_met") for r in ids}
    second = {r: ("met" if r[0] in "1234" else "partly_met") for r in ids}
    subject = made["actors"]["coop_nyabibwe"]
    made["assessments"] = {}
    today = date.today()
    visits = (
        ("baseline", first, "Baseline visit", today - timedelta(days=180)),
        ("follow_up", second, "Follow-up visit", today - timedelta(days=14)),
    )
    for label, answers, note, made_on in visits:
        made["assessments"][label] = assess(p, subject, answers, note, made_on)
    draft = p.post("scoring", "analyst", "/assessments", {"framework": "craft", "subject_type": "actor",
                                                         "subject_id": made["actors"]["coop_kalima"]})  # fmt: skip
    made["assessments"]["draft"] = draft["id"]


def assess(p: Platform, subject: str, answers: dict[str, str], note: str, made_on: date) -> str:
    body = {"framework": "craft", "subject_type": "actor", "subject_id": subject, "assessed_on": made_on.isoformat()}
    draft = p.post("scoring", "analyst", "/assessments", body)
    path = f"/assessments/{draft['id']}"
    answer_body = {"version": draft["version"], "answers": {r: {"answer": a, "note": note} for r, a in answers.items()}}
    answered = p.call("scoring", "analyst", "PATCH", f"{path}/answers", json=answer_body).json()
    submitted = p.post("scoring", "analyst", f"{path}/submit", {"version": answered["version"]})
    p.post("scoring", "reviewer", f"{path}/review", {"version": submitted["version"], "note": f"{note}: reviewed"})
    return str(draft["id"])


# ------------------------------------------------------------------------------------------------ entry points


def wanted(env: dict[str, str]) -> bool:
    """`make run DEMO=1`: load the programme once, when var/ has no demo marker yet."""
    return env.get("DEMO", "").lower() in ("1", "true", "yes")


def prepare(env: dict[str, str]) -> None:
    """Before the services start, with DEMO=1: let partner webhooks reach a receiver on this machine (http, a
    loopback address), as the README walkthrough does. Never for a deployment: these are development settings."""
    if wanted(env):
        env.setdefault("INCIDENTS_WEBHOOKS_ALLOW_HTTP", "true")
        env.setdefault("INCIDENTS_WEBHOOKS_ALLOW_PRIVATE", "true")


def launch(env: dict[str, str]) -> subprocess.Popen[bytes] | None:
    """Once every service is healthy (deploy.local): start the loader, unless the demo was loaded before."""
    if not wanted(env):
        return None
    if MARKER.exists():
        say(f"demo: already loaded ({MARKER}); not loading it again")
        return None
    say("demo: loading the demo programme (python -m deploy.demo) ...")
    return subprocess.Popen([sys.executable, "-m", "deploy.demo"], env=env)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1", help="host of the four APIs on their ports")
    parser.add_argument("--gateway", default="", help="one address serving /kyc, /incidents, ... instead")
    parser.add_argument("--marker", type=Path, default=MARKER, help="where to write what was loaded (JSON)")
    sub = parser.add_subparsers(dest="command")
    receiver = sub.add_parser("receive", help="print verified webhook deliveries")
    receiver.add_argument("--port", type=int, default=9999)
    receiver.add_argument("--host", default="127.0.0.1")
    receiver.add_argument("--secret", default=os.environ.get("WEBHOOK_SECRET", ""), help="whsec_... (WEBHOOK_SECRET)")
    args = parser.parse_args(argv)
    if args.command == "receive":
        return receive(args.host, args.port, args.secret)
    platform = platform_from(args)
    started = time.monotonic()
    try:
        made = load(platform)
    except Exists as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return EXISTS
    except (DemoError, httpx.HTTPError) as exc:
        print(f"demo: failed: {exc}", file=sys.stderr)
        return FAILED
    args.marker.parent.mkdir(parents=True, exist_ok=True)
    args.marker.write_text(json.dumps(made, indent=2) + "\n")
    say(f"demo programme loaded in {time.monotonic() - started:.0f}s; ids in {args.marker}")
    return 0


def receive(host: str, port: int, secret: str) -> int:
    """A partner's endpoint: verifies each delivery with the subscription's secret and prints it."""
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    if not secret.startswith("whsec_"):
        print("receive: --secret whsec_... (the subscription's secret, shown once at creation)", file=sys.stderr)
        return 2
    hook = Webhook(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            try:
                payload = hook.verify(body, dict(self.headers.items()))
            except WebhookVerificationError as exc:
                print(f"REFUSED {self.headers.get('webhook-id')}: {exc}", flush=True)
                self.send_response(400)
                self.end_headers()
                return
            incident = payload.get("data", {}).get("incident", {})
            what = incident.get("title") or incident.get("summary")
            print(f"{datetime.now(UTC):%H:%M:%S} verified {self.headers.get('webhook-id')} {payload.get('type')}: "
                  f"{incident.get('reference')} {incident.get('status')} {what}", flush=True)  # fmt: skip
            print(json.dumps(payload, indent=2, ensure_ascii=False), flush=True)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = HTTPServer((host, port), Handler)
    print(f"listening on http://{host}:{port}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
