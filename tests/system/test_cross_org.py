"""Another organisation's records, probed over every route of all four services: organisation A creates one of
everything through the API, organisation B (roles that may read) names A's ids in every path of the OpenAPI
documents. Each read and each change answers 404 problem+json — exactly what it answers for ids nobody has — and no
answer and no list names any of A's ids or names. A GET route with a path parameter that this probe has no id for
fails the test: the routes probed are the document's, compared with the explicit map below."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import httpx
import pytest
import sqlalchemy as sa

from libs.common.auth import issue_token
from services.scoring.risk import recompute
from services.traceability.tables import CustodyEventRow
from tests.incidents.steps import report_body
from tests.kyc.register_support import PDF
from tests.kyc.screening_steps import register_actor
from tests.kyc.test_scoping import BODIES as KYC_BODIES
from tests.kyc.test_scoping import MULTIPART as KYC_MULTIPART
from tests.kyc.test_scoping import owners_records  # noqa: F401 (the fixture: one of everything in KYC's org A)
from tests.scoring.risk.events import deliver as deliver_to_scoring
from tests.scoring.risk.events import site_event
from tests.scoring.support import PNG, SHIPPED, all_met, answered, draft, requirement_ids, submitted
from tests.traceability.support import approved_actor, site
from tests.traceability.test_custody import issue, move, new_lot

OWNER, STRANGER = "org-a", "org-b"  # the owner is the org the services' test helpers build events for
STAFF = ("admin", "analyst", "incident_team")  # B's roles: every read is allowed to it, so only scoping can refuse
DEV_WEBHOOKS = dict(webhooks_allow_http=True, webhooks_allow_private=True)
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# Every GET route with a path parameter, per service: the path parameters are filled from the owner's records
# (below, keyed by parameter name). A route the OpenAPI document has and this map lacks fails the test.
GET_ROUTES: dict[str, set[str]] = {
    "kyc": {
        "/actors/{actor_id}",
        "/actors/{actor_id}/persons",
        "/actors/{actor_id}/persons/{person_id}",
        "/actors/{actor_id}/licences",
        "/licences/{licence_id}",
        "/documents/{document_id}",
        "/documents/{document_id}/content",
        "/actors/{actor_id}/history",
        "/actors/{actor_id}/shares",
        "/sites/{site_id}",
        "/sites/{site_id}/inspections",
        "/sites/{site_id}/status-history",
        "/sites/{site_id}/history",
        "/risk-areas/versions/{version}",
        "/watchlists/{watchlist_id}",
        "/watchlists/{watchlist_id}/snapshots",
        "/screening/hits/{hit_id}",
        "/actors/{actor_id}/screening",
    },
    "incidents": {
        "/incidents/{incident_id}",
        "/incidents/{incident_id}/timeline",
        "/incidents/{incident_id}/reporter",
        "/incidents/{incident_id}/attachments",
        "/incidents/{incident_id}/attachments/{attachment_id}/content",
        "/webhooks/subscriptions/{subscription_id}",
        "/webhooks/subscriptions/{subscription_id}/deliveries",
    },
    "traceability": {
        "/known-actors/{actor_id}",
        "/lots/{lot_id}",
        "/lots/{lot_id}/lineage",
        "/lots/{lot_id}/custody",
        "/lots/{lot_id}/proof",
        "/lots/{lot_id}/epcis",
    },
    "scoring": {
        "/frameworks/{code}/{version}",
        "/assessments/{assessment_id}",
        "/assessments/{assessment_id}/evidence",
        "/assessments/{assessment_id}/evidence/{evidence_id}/content",
        "/assessments/{assessment_id}/summary.pdf",
        "/assessments/{first_id}/compare/{second_id}",
        "/scores/recompute/{request_id}",
        "/scores/{subject_type}/{subject_id}",
        "/scores/{subject_type}/{subject_id}/history",
    },
}
# Documented public routes (no security in the OpenAPI document): they answer anyone, by design.
PUBLIC: dict[str, set[str]] = {
    "kyc": set(),
    "incidents": set(),
    "traceability": {"/public/tags/{tag}"},
    "scoring": set(),
}
# GET routes whose answer to the owner is not 200 although the ids are the owner's (the positive control).
OWNER_ANSWERS: dict[str, int] = {}

# A valid body for every change that names a record in its path, so B's request gets as far as the lookup.
# "multipart" entries are sent as forms with a file.
REASON = {"reason": "checked"}
ACTIONS = {"actions": [{"title": "Suspend purchases", "owner": "bob", "due_date": "2026-12-20"}]}
BODIES: dict[str, dict[tuple[str, str], Any]] = {
    "kyc": {
        **KYC_BODIES,
        **{key: "multipart" for key in KYC_MULTIPART},
        ("delete", "/actors/{actor_id}/persons/{person_id}"): None,
        ("delete", "/actors/{actor_id}/shares/{org_id}"): None,
    },
    "incidents": {
        ("patch", "/incidents/{incident_id}"): {"title": "Renamed"},
        ("post", "/incidents/{incident_id}/triage"): None,
        ("post", "/incidents/{incident_id}/verify"): None,
        ("post", "/incidents/{incident_id}/dismiss"): {"reason": "unfounded"},
        ("post", "/incidents/{incident_id}/mitigation"): ACTIONS,
        ("patch", "/incidents/{incident_id}/actions/{action_id}"): {"status": "done", "note": "n"},
        ("post", "/incidents/{incident_id}/resolve"): None,
        ("post", "/incidents/{incident_id}/close"): {"outcome": "o"},
        ("post", "/incidents/{incident_id}/reopen"): {"reason": "new evidence"},
        ("post", "/incidents/{incident_id}/escalate"): {"level": 1, "reason": "armed guards"},
        ("post", "/incidents/{incident_id}/comments"): {"text": "a comment of B's"},
        ("post", "/incidents/{incident_id}/attachments"): "multipart",
        ("delete", "/webhooks/subscriptions/{subscription_id}"): None,
        ("post", "/webhooks/subscriptions/{subscription_id}/secret"): None,
        ("post", "/webhooks/subscriptions/{subscription_id}/enable"): None,
        ("post", "/webhooks/subscriptions/{subscription_id}/disable"): None,
        ("post", "/webhooks/subscriptions/{subscription_id}/replay"): {
            "since": "2026-01-01T00:00:00Z",
            "until": "2026-12-31T00:00:00Z",
        },
    },
    "traceability": {
        ("post", "/lots/{lot_id}/transfers"): {"from_actor_id": "{trader}", "to_actor_id": "{miner}"},
        ("post", "/lots/{lot_id}/transfers/confirm"): {"actor_id": "{miner}", "mass": 100, "unit": "KGM"},
        ("post", "/lots/{lot_id}/export"): {"actor_id": "{trader}", "export_certificate": "C-1", "country": "CD"},
        ("post", "/lots/{lot_id}/receipt"): {"smelter_actor_id": "{trader}"},
    },
    "scoring": {
        ("patch", "/assessments/{assessment_id}/answers"): {"version": 1, "answers": {"1.1": {"answer": "met"}}},
        ("post", "/assessments/{assessment_id}/submit"): {"version": 1},
        ("post", "/assessments/{assessment_id}/review"): {"version": 1, "note": "n"},
        ("post", "/assessments/{assessment_id}/evidence"): "multipart",
    },
}


def operations(openapi: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m, path) for path, item in openapi["paths"].items() for m in item if m != "options" and "{" in path]


def secured(openapi: dict[str, Any], method: str, template: str) -> bool:
    return "security" in openapi["paths"][template][method]


def leaked(text: str, secrets: dict[str, str], *, sent: str) -> list[str]:
    """The owner's ids and names in an answer, but for those the caller sent itself."""
    return [f"{key}={value}" for key, value in secrets.items() if value in text and value not in sent]


def nobodys(path: str) -> str:
    """The same path with every UUID replaced by one nobody has."""
    return UUID_TEXT.sub(lambda _: str(uuid4()), path)


def filled(body: Any, records: dict[str, str]) -> Any:
    if isinstance(body, dict):
        return {k: filled(v, records) for k, v in body.items()}
    if isinstance(body, list):
        return [filled(v, records) for v in body]
    if isinstance(body, str) and body.startswith("{") and body.endswith("}"):
        return records[body[1:-1]]
    return body


async def send(http: httpx.AsyncClient, method: str, path: str, body: Any) -> httpx.Response:
    if body == "multipart":
        form = {"kind": "document"} if "/evidence" in path else {}
        return await http.post(path, data=form, files={"file": ("f.pdf", PDF, "application/pdf")})
    if method == "delete":
        return await http.delete(path, headers={"If-Match": '"1"'})
    return await http.request(method, path, json=body)


def code_of(response: httpx.Response) -> tuple[int, str | None]:
    problem = response.headers.get("content-type") == "application/problem+json"
    return response.status_code, response.json().get("code") if problem else None


class Probe:
    """One service: the owner's client, B's client(s) by route, the owner's records by path parameter name, and the
    owner's ids and names that no answer to B may hold."""

    def __init__(
        self,
        service: str,
        owner: Callable[[str], httpx.AsyncClient],
        stranger: Callable[[str], httpx.AsyncClient],
        records: dict[str, str],
        names: dict[str, str],
    ) -> None:
        self.service, self.owner, self.stranger, self.records = service, owner, stranger, records
        self.secrets = {**{k: v for k, v in records.items() if UUID_TEXT.fullmatch(v)}, **names}
        self.shown: list[str] = []
        self.own: dict[str, str] = {}  # B's own records, by path parameter name, for the mixed probes
        self.mixes: list[str] = []

    async def walk(self) -> list[str]:
        """Every route with a path parameter; returns the GET routes probed."""
        openapi = (await self.owner("/").get("/openapi.json")).json()
        public = {t for m, t in operations(openapi) if m == "get" and not secured(openapi, m, t)}
        assert public == PUBLIC[self.service], f"{self.service}: public GET routes {public}"
        gets = {t for m, t in operations(openapi) if m == "get"} - public
        assert gets == GET_ROUTES[self.service], (
            f"{self.service}: GET routes with path parameters not in the probe's map: {gets - GET_ROUTES[self.service]}"
            f"; in the map but gone: {GET_ROUTES[self.service] - gets}"
        )
        probed = []
        for method, template in operations(openapi):
            if template in public:
                continue
            path = template.format(**self.records)
            if method == "get":
                body = None
                own = await self.owner(template).get(path)
                assert own.status_code == OWNER_ANSWERS.get(template, 200), (path, own.text)  # the ids are real
            else:
                assert (method, template) in BODIES[self.service], f"give {method.upper()} {template} a body"
                body = filled(BODIES[self.service][(method, template)], self.records)
            http = self.stranger(template)
            response = await send(http, method, path, body)
            assert response.status_code == 404, (self.service, method, path, response.text)
            assert response.headers["content-type"] == "application/problem+json", (method, path)
            assert not leaked(response.text, self.secrets, sent=path), (method, path, response.text)
            # The answer B gets for A's record is the answer for a record nobody has: existence shows nowhere.
            unknown = await send(http, method, nobodys(path), body)
            assert code_of(response) == code_of(unknown), (method, path, response.text, unknown.text)
            if method == "get":
                probed.append(template)
            await self.mixed(method, template, body)
        return probed

    async def mixed(self, method: str, template: str, body: Any) -> None:
        """B's own record in one path parameter, A's in another (B's incident with A's attachment, ...): 404, the
        answer for an id nobody has."""
        params = re.findall(r"\{(\w+)\}", template)
        ids = [p for p in params if UUID_TEXT.fullmatch(self.records[p])]
        for theirs in itertools.product((False, True), repeat=len(ids)):
            chosen = [p for p, t in zip(ids, theirs, strict=True) if t]
            if not chosen or len(chosen) == len(ids) or not all(p in self.own for p in ids if p not in chosen):
                continue
            values = {**self.records, **{p: self.own[p] for p in ids if p not in chosen}}
            path = template.format(**values)
            response = await send(self.stranger(template), method, path, body)
            assert response.status_code == 404, (self.service, method, path, response.text)
            assert not leaked(response.text, self.secrets, sent=path), (method, path, response.text)
            unknown = await send(
                self.stranger(template),
                method,
                template.format(**{**values, **{p: str(uuid4()) for p in chosen}}),
                body,
            )
            assert code_of(response) == code_of(unknown), (method, path, response.text, unknown.text)
            self.mixes.append(f"{method.upper()} {template} (B's {', '.join(p for p in ids if p not in chosen)})")

    async def lists(self, params: dict[str, dict[str, str]] | None = None) -> list[str]:
        """Every GET without a path parameter: B's answer names none of A's records (filters set to A's ids)."""
        openapi = (await self.owner("/").get("/openapi.json")).json()
        walked = []
        for template, item in openapi["paths"].items():
            if "get" not in item or "{" in template or template in ("/openapi.json", "/health", "/ready"):
                continue
            names = {p["name"] for p in item["get"].get("parameters", [])}
            query = {n: self.records[n] for n in names if n in self.records} | (params or {}).get(template, {})
            response = await self.stranger(template).get(template, params=query)
            assert response.status_code in (200, 404), (self.service, template, query, response.text)
            assert not leaked(response.text, self.secrets, sent=str(query)), (template, response.text)
            walked.append(template)
            if leaked((await self.owner(template).get(template, params=query)).text, self.secrets, sent=""):
                self.shown.append(template)  # the positive control: this list does show the owner's records
        return walked


@pytest.fixture
def postgres(database_urls: dict[str, str]) -> None:
    if not database_urls["kyc"].startswith("postgresql"):
        pytest.skip("the probe runs on PostgreSQL, as the services do (no PostgreSQL found)")


async def test_kyc_answers_404_to_another_organisation_on_every_route(stack, postgres, owners_records):  # noqa: F811
    owner = stack.client("kyc", stack.token(org=OWNER, roles=("admin", "analyst")))
    stranger = stack.client("kyc", stack.token(org=STRANGER, roles=("admin", "analyst")))
    names = {"actor": "Great Lakes Mining Company", "person": "Viktor Kazantsev"}
    probe = Probe("kyc", lambda _: owner, lambda _: stranger, owners_records, names)
    probe.own = {"actor_id": (await register_actor(stranger, "Comptoir Minier de Bukavu"))["id"]}

    probed = await probe.walk()
    lists = await probe.lists({"/actors": {"q": "Great Lakes"}})

    # A change without the version read answers 428 version_required before any lookup: the same answer for A's
    # record as for one nobody has, so it tells B nothing (the version is checked before the record is looked up).
    for (method, template), body in KYC_BODIES.items():
        if isinstance(body, dict) and "version" in body:
            path = template.format(**owners_records)
            unversioned = {k: v for k, v in body.items() if k != "version"}
            theirs = await stranger.request(method, path, json=unversioned)
            nobody = await stranger.request(method, nobodys(path), json=unversioned)
            assert code_of(theirs) == code_of(nobody) == (428, "version_required"), (method, path, theirs.text)
            assert not leaked(theirs.text, probe.secrets, sent=path), theirs.text

    print("kyc GET routes probed:", sorted(probed), "lists:", sorted(lists), "mixed:", probe.mixes)
    assert probe.mixes
    assert set(probed) == GET_ROUTES["kyc"]
    assert {"/actors", "/licences", "/documents", "/sites", "/watchlists", "/screening/hits"} <= set(lists)
    assert {"/actors", "/licences", "/sites", "/watchlists", "/screening/hits"} <= set(probe.shown)


async def test_incidents_answer_404_to_another_organisation_on_every_route(stack, postgres):
    owner = stack.client("incidents", stack.token(org=OWNER, roles=STAFF))
    partner = stack.client("incidents", stack.token(org=OWNER, kind="partner", roles=("admin",)), **DEV_WEBHOOKS)
    public = stack.client("incidents")
    title = "Forced labour at the Kalimbi pits"
    reported = await public.post(
        "/public/reports",
        json=report_body(org_id=OWNER, title=title, reporter_name="Jeanne Mukamana", reporter_contact="+243 81 5"),
    )
    assert reported.status_code == 201, reported.text
    [incident] = (await owner.get("/incidents")).json()["items"]
    path = f"/incidents/{incident['id']}"
    for step, body in (("triage", None), ("verify", None), ("mitigation", ACTIONS)):
        assert (await owner.post(f"{path}/{step}", json=body)).status_code == 200, step
    assert (await owner.post(f"{path}/comments", json={"text": "seen by the team"})).status_code == 204
    attached = await owner.post(f"{path}/attachments", files={"file": ("pit.png", PNG, "image/png")})
    assert attached.status_code == 201, attached.text
    subscribed = await partner.post("/webhooks/subscriptions", json={"url": "http://127.0.0.1:9/h", "tier": "member"})
    assert subscribed.status_code == 201, subscribed.text
    records = {
        "incident_id": incident["id"],
        "action_id": (await owner.get(path)).json()["actions"][0]["id"],
        "attachment_id": attached.json()["id"],
        "subscription_id": subscribed.json()["id"],
    }
    staff = stack.client("incidents", stack.token(org=STRANGER, roles=STAFF))
    partners = stack.client("incidents", stack.token(org=STRANGER, kind="partner", roles=("admin",)), **DEV_WEBHOOKS)

    def stranger(template: str) -> httpx.AsyncClient:
        return partners if template.startswith("/webhooks") else staff

    def owners(template: str) -> httpx.AsyncClient:  # the webhook routes are a partner's (operators have none)
        return partner if template.startswith("/webhooks") else owner

    names = {"title": title, "reporter": "Jeanne Mukamana", "reference": incident["reference"]}
    probe = Probe("incidents", owners, stranger, records, names)
    theirs = await staff.post("/incidents", json=report_body(title="B's own report"))
    assert theirs.status_code == 201, theirs.text
    for step, body in (("triage", None), ("verify", None), ("mitigation", ACTIONS)):  # its actions can be updated
        assert (await staff.post(f"/incidents/{theirs.json()['id']}/{step}", json=body)).status_code == 200, step
    probe.own = {"incident_id": theirs.json()["id"]}

    probed = await probe.walk()
    lists = await probe.lists()

    print("incidents GET routes probed:", sorted(probed), "lists:", sorted(lists), "mixed:", probe.mixes)
    assert probe.mixes
    assert set(probed) == GET_ROUTES["incidents"]
    assert {"/incidents", "/deadlines/overdue"} <= set(lists) and {"/incidents", "/webhooks/subscriptions"} <= set(
        probe.shown
    )


async def test_traceability_answers_404_to_another_organisation_on_every_route(stack, postgres):
    owner = stack.client("traceability", stack.token(org=OWNER))
    site_id, miner, trader = await site(stack), await approved_actor(stack, "miner"), await approved_actor(stack)
    await issue(owner, site_id, "XO-")
    created = await new_lot(owner, site_id, miner, "XO-1")
    assert created.status_code == 201, created.text
    lot_id = created.json()["lot_id"]
    await move(owner, lot_id, miner, trader, 100.0)
    records = {"lot_id": lot_id, "actor_id": str(miner), "miner": str(miner), "trader": str(trader)}
    known = (await owner.get(f"/known-actors/{miner}")).json()
    operator = stack.client("traceability", stack.token(org=STRANGER))
    probe = Probe(
        "traceability", lambda _: owner, lambda _: operator, records, {"actor": known["legal_name"], "tag": "XO-1"}
    )

    probed = await probe.walk()
    lists = await probe.lists(
        {
            "/mine-list.csv": {"from": "2020-01-01", "to": "2030-12-31", "smelter_actor_id": str(trader)},
            "/checkpoints/consistency": {"first": "1", "second": "2"},
        }
    )

    print("traceability GET routes probed:", sorted(probed), "lists:", sorted(lists))
    assert set(probed) == GET_ROUTES["traceability"]
    assert {"/known-actors", "/anomalies", "/checkpoints", "/mine-list.csv"} <= set(lists)
    assert {"/known-actors"} <= set(probe.shown)


async def test_traceability_refuses_a_body_naming_another_organisations_records_as_it_refuses_unknown_ones(
    stack, postgres
):
    owner = stack.client("traceability", stack.token(org=OWNER))
    site_id, miner, trader = await site(stack), await approved_actor(stack, "miner"), await approved_actor(stack)
    await issue(owner, site_id, "XB-")
    lot_id = (await new_lot(owner, site_id, miner, "XB-1")).json()["lot_id"]
    async with stack.sessions("traceability")() as db:
        event_id = str((await db.execute(sa.select(CustodyEventRow.event_id))).scalars().first())
    theirs = {"site": str(site_id), "miner": str(miner), "trader": str(trader), "lot": lot_id, "event": event_id}
    stranger = stack.client("traceability", stack.token(org=STRANGER))
    writes = [
        ("/tag-blocks", {"prefix": "XB-", "first": 20, "count": 1, "site_id": "{site}"}),
        ("/lots", {"tag": "XB-2", "mineral": "tin", "form": "ore", "mass": 1, "unit": "KGM", "site_id": "{site}",
                   "producer_actor_id": "{miner}"}),
        ("/transformations", {"kind": "merge", "actor_id": "{trader}", "input_lot_ids": ["{lot}"],
                              "outputs": [{"mass": 1, "unit": "KGM", "form": "concentrate"}]}),
        ("/custody-events/corrections", {"corrects_event_id": "{event}", "reason": "wrong mass"}),
    ]  # fmt: skip

    for path, template in writes:
        body = filled(template, theirs)
        response = await stranger.post(path, json=body)
        unknown = await stranger.post(path, json=filled(template, {k: str(uuid4()) for k in theirs}))

        assert code_of(response) == code_of(unknown), (path, response.text, unknown.text)
        assert 400 <= response.status_code < 500 and response.status_code != 403, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json", path
        assert not leaked(response.text, {"site": str(site_id), "lot": lot_id}, sent=str(body)), response.text
    async with stack.sessions("traceability")() as db:  # and nothing of B's was written
        orgs = (await db.execute(sa.select(CustodyEventRow.org_id).distinct())).scalars().all()
    assert orgs == [OWNER]


async def test_traceability_answers_a_smelter_of_another_organisation_404_on_every_read(stack, postgres):
    owner = stack.client("traceability", stack.token(org=OWNER))
    site_id, miner, trader = await site(stack), await approved_actor(stack, "miner"), await approved_actor(stack)
    await issue(owner, site_id, "XS-")
    lot_id = (await new_lot(owner, site_id, miner, "XS-1")).json()["lot_id"]
    await move(owner, lot_id, miner, trader, 100.0)
    # B's smelter names A's own trader as its actor: still nothing of A's answers it.
    token = issue_token(
        stack.settings("traceability"), user_id="sam", org_id=STRANGER, org_kind="smelter", roles=["admin"],
        actor_id=str(trader),
    )  # fmt: skip
    smelter = stack.client("traceability", token)

    for template in sorted(GET_ROUTES["traceability"] - {"/known-actors/{actor_id}"}):
        path = template.format(lot_id=lot_id)
        response = await smelter.get(path)
        assert (response.status_code, response.headers["content-type"]) == (404, "application/problem+json"), path
        assert not leaked(response.text, {"miner": str(miner), "trader": str(trader)}, sent=path), response.text


async def test_scoring_answers_404_to_another_organisation_on_every_route(stack, postgres):
    owner = stack.client("scoring", stack.token(org=OWNER))
    source = (await _craft(owner, "2.7"))["code"]
    site_id = uuid4()
    subject = str(site_id)  # assessed, and scored from KYC's events
    first = await submitted(owner, subject, all_met(**{"2.1": "not_met"}))
    second = await answered(owner, await draft(owner, subject_id=subject), all_met())
    evidence = await owner.post(
        f"/assessments/{second['id']}/evidence",
        data={"kind": "document", "requirement_id": requirement_ids()[0]},
        files={"file": ("p.pdf", PDF, "application/pdf")},
    )
    assert evidence.status_code == 201, evidence.text
    await deliver_to_scoring(stack, site_event(site_id, 1, status="red"))
    asked = await owner.post("/scores/recompute")
    assert asked.status_code in (200, 201, 202), asked.text
    async with stack.sessions("scoring")() as db, db.begin():
        await recompute.run_recompute_request(db, datetime.now(UTC))
    records = {
        "code": source,
        "version": "2.7",
        "assessment_id": second["id"],
        "evidence_id": evidence.json()["id"],
        "first_id": first["id"],
        "second_id": second["id"],
        "request_id": asked.json()["request_id"],
        "subject_type": "site",
        "subject_id": str(site_id),
    }
    stranger = stack.client("scoring", stack.token(org=STRANGER))
    probe = Probe("scoring", lambda _: owner, lambda _: stranger, records, {"subject": subject})
    own = (await draft(stranger, subject_id=subject))["id"]  # B assesses the same subject: still none of A's
    probe.own = {"assessment_id": own, "first_id": own, "second_id": own}

    probed = await probe.walk()
    lists = await probe.lists(
        {
            "/progress": {"subject_id": subject, "framework": "craft"},
            "/progress/chart.svg": {"subject_id": subject, "framework": "craft"},
        }
    )

    print("scoring GET routes probed:", sorted(probed), "lists:", sorted(lists), "mixed:", probe.mixes)
    assert probe.mixes
    assert set(probed) == GET_ROUTES["scoring"]
    assert {"/frameworks", "/assessments", "/progress"} <= set(lists) and {"/assessments", "/progress"} <= set(
        probe.shown
    )


async def _craft(http: httpx.AsyncClient, version: str) -> dict[str, Any]:
    text = (SHIPPED / "craft-2.0.yaml").read_text().replace('version: "2.0"', f'version: "{version}"')
    uploaded = await http.post("/frameworks", json={"source": text})
    assert uploaded.status_code == 201, uploaded.text
    return dict(uploaded.json())
