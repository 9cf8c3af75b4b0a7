"""Another organisation's records, walked over every route of the KYC API: a path id answers 404, a list shows none,
a body naming one answers 422 — and no answer names any id of the owner's beyond what the caller sent."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from libs.common.db import utcnow
from tests.kyc.register_support import PDF, licence_body, person_body
from tests.kyc.screening_steps import hits, imported, register_actor, run_screening
from tests.kyc.watchlist_files import UN_LIST

OWNER, STRANGER = "org-a", "org-b"
SITE = {
    "name": "Kamituga Mwenga",
    "location": {"type": "Point", "coordinates": [28.18, -3.06]},
    "country": "CD",
    "region": "CD-SK",
    "minerals": ["7108"],
}
INSPECTION = {"inspection_date": "2025-01-10", "inspector": "J. Mukendi", "agency": "SAEMAPE", "result": "green"}
REASON = {"reason": "checked against the registry"}
# A valid body for every write that names a record in its path: the stranger's request must reach the lookup.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("patch", "/actors/{actor_id}"): {"version": 1, "tax_number": "X-1"},
    ("post", "/actors/{actor_id}/persons"): person_body(),
    ("patch", "/actors/{actor_id}/persons/{person_id}"): {"version": 1, "role": "director"},
    ("post", "/actors/{actor_id}/licences"): licence_body(number="OTHER-1"),
    ("patch", "/licences/{licence_id}"): {"version": 1, "issuer": "Cadastre Minier"},
    ("post", "/actors/{actor_id}/shares"): {"org_id": "org-c"},
    ("post", "/actors/{actor_id}/submit"): {"version": 1},
    ("post", "/actors/{actor_id}/start-review"): {"version": 1},
    ("post", "/actors/{actor_id}/approve"): {"version": 1},
    ("post", "/actors/{actor_id}/complete-review"): {"version": 1},
    ("post", "/actors/{actor_id}/reopen"): {"version": 1},
    ("post", "/actors/{actor_id}/reject"): {"version": 1, **REASON},
    ("post", "/actors/{actor_id}/suspend"): {"version": 1, **REASON},
    ("post", "/actors/{actor_id}/reinstate"): {"version": 1, **REASON},
    ("patch", "/sites/{site_id}"): {"version": 1, "name": "Renamed"},
    ("post", "/sites/{site_id}/inspections"): INSPECTION,
    ("post", "/screening/hits/{hit_id}/confirm"): REASON,
    ("post", "/screening/hits/{hit_id}/dismiss"): REASON,
}
MULTIPART = {("post", "/watchlists/{watchlist_id}/imports")}
NO_BODY = {"get", "delete"}
IF_MATCH = {"If-Match": '"1"'}  # a removal names the version it was read at


@pytest.fixture
async def owners_records(stack) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One of everything in the owner's organisation: actor, person, licence, document, site, inspection, list, hit."""
    owner = stack.client("kyc", stack.token(org=OWNER, roles=("admin", "analyst")))
    watchlist = await imported(owner, UN_LIST)
    actor = await register_actor(owner, "Great Lakes Mining Company")
    person = (await owner.post(f"/actors/{actor['id']}/persons", json=person_body(full_name="Viktor Kazantsev"))).json()
    licence = (await owner.post(f"/actors/{actor['id']}/licences", json=licence_body())).json()
    document = await owner.post(
        "/documents",
        data={"doc_type": "licence", "licence_id": licence["id"]},
        files={"file": ("permit.pdf", PDF, "application/pdf")},
    )
    site = (await owner.post("/sites", json={**SITE, "operator_actor_id": actor["id"]})).json()
    inspection = (await owner.post(f"/sites/{site['id']}/inspections", json=INSPECTION)).json()
    risk = await owner.put("/risk-areas", json=[{"area": "CD", "level": "high_risk", "reason": "r", "source": "s"}])
    assert risk.status_code == 200, risk.text
    await run_screening(stack)
    [hit, *_] = await hits(owner)
    snapshot = (await owner.get(f"/watchlists/{watchlist['id']}")).json()["current_snapshot"]
    return {
        "actor_id": actor["id"],
        "person_id": person["id"],
        "licence_id": licence["id"],
        "document_id": document.json()["id"],
        "site_id": site["id"],
        "inspection_id": inspection["id"],
        "watchlist_id": watchlist["id"],
        "snapshot_id": snapshot["id"],
        "hit_id": hit["id"],
        "version": "1",  # the owner's risk table version
        "org_id": STRANGER,
    }


def operations(openapi: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (method, path)
        for path, item in openapi["paths"].items()
        for method in item
        if method != "options" and "{" in path
    ]


def leaked(response_text: str, records: dict[str, str], *, sent: str) -> list[str]:
    """The owner's ids in an answer, but for those the caller sent itself."""
    return [
        value
        for name, value in records.items()
        if name not in ("version", "org_id") and value in response_text and value not in sent
    ]


async def test_every_path_id_of_another_organisation_answers_404_naming_nothing_of_theirs(stack, owners_records):
    stranger = stack.client("kyc", stack.token(org=STRANGER, roles=("admin", "analyst")))
    openapi = (await stranger.get("/openapi.json")).json()

    walked = []
    for method, template in operations(openapi):
        path = template.format(**owners_records)
        if (method, template) in MULTIPART:
            response = await stranger.post(path, files={"file": ("list.xml", UN_LIST, "application/xml")})
        elif method in NO_BODY:
            response = await stranger.request(method, path, headers=IF_MATCH if method == "delete" else {})
        else:
            assert (method, template) in BODIES, f"give {method.upper()} {template} a valid body in BODIES"
            response = await stranger.request(method, path, json=BODIES[(method, template)])

        assert response.status_code == 404, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert not leaked(response.text, owners_records, sent=path), (method, path, response.text)
        walked.append(template)
    assert {"/licences/{licence_id}", "/documents/{document_id}/content", "/screening/hits/{hit_id}"} <= set(walked)


async def test_no_list_of_another_organisation_shows_the_owners_records(stack, owners_records):
    stranger = stack.client("kyc", stack.token(org=STRANGER, roles=("admin", "analyst")))
    openapi = (await stranger.get("/openapi.json")).json()
    lists = [path for path, item in openapi["paths"].items() if "get" in item and "{" not in path]
    filters = {"actor_id", "licence_id", "site_id", "operator_actor_id"}

    for path in lists:
        names = {p["name"] for p in openapi["paths"][path]["get"].get("parameters", [])}
        params = {name: owners_records[name.removeprefix("operator_")] for name in names & filters}
        response = await stranger.get(path, params=params)

        assert response.status_code == 200, (path, response.text)
        assert not leaked(response.text, owners_records, sent=""), (path, response.text)
    assert {"/actors", "/licences", "/documents", "/sites", "/watchlists", "/screening/hits"} <= set(lists)


async def test_a_body_naming_another_organisations_record_is_422_naming_the_field(stack, owners_records):
    stranger = stack.client("kyc", stack.token(org=STRANGER, roles=("admin", "analyst")))
    actor = await register_actor(stranger, "Comptoir Minier de Bukavu")
    site = (await stranger.post("/sites", json=SITE)).json()

    licence = await stranger.post(
        f"/actors/{actor['id']}/licences", json=licence_body(document_id=owners_records["document_id"])
    )
    inspection = await stranger.post(
        f"/sites/{site['id']}/inspections", json={**INSPECTION, "report_document_id": owners_records["document_id"]}
    )
    operated = await stranger.post("/sites", json={**SITE, "operator_actor_id": owners_records["actor_id"]})
    edited = await stranger.patch(
        f"/sites/{site['id']}", json={"version": site["version"], "operator_actor_id": owners_records["actor_id"]}
    )

    for response, code, field in (
        (licence, "unknown_document", "document_id"),
        (inspection, "unknown_document", "report_document_id"),
        (operated, "unknown_actor", "operator_actor_id"),
        (edited, "unknown_actor", "operator_actor_id"),
    ):
        assert response.status_code == 422, response.text
        assert (response.json()["code"], response.json()["field"]) == (code, field)
        assert not leaked(response.text, owners_records, sent=""), response.text


async def test_an_unknown_document_is_the_same_422_on_a_licence_and_on_an_inspection(stack):
    client = stack.client("kyc", stack.token())
    actor = await register_actor(client, "Comptoir Minier de Bukavu")
    site = (await client.post("/sites", json=SITE)).json()
    missing = str(uuid4())

    licence = await client.post(f"/actors/{actor['id']}/licences", json=licence_body(document_id=missing))
    inspection = await client.post(
        f"/sites/{site['id']}/inspections",
        json={**INSPECTION, "inspection_date": utcnow().date().isoformat(), "report_document_id": missing},
    )
    path_id = await client.get(f"/documents/{missing}")

    assert (licence.status_code, licence.json()["code"], licence.json()["field"]) == (
        422,
        "unknown_document",
        "document_id",
    )
    assert (inspection.status_code, inspection.json()["code"], inspection.json()["field"]) == (
        422,
        "unknown_document",
        "report_document_id",
    )
    assert (path_id.status_code, path_id.json()["code"]) == (404, "document_not_found")


SHARED_READS = {"/actors/{actor_id}", "/actors/{actor_id}/licences", "/licences/{licence_id}"}


async def test_a_shared_actor_is_read_alike_everywhere_and_every_change_is_403_read_only_share(stack, owners_records):
    owner = stack.client("kyc", stack.token(org=OWNER, roles=("admin",)))
    assert (
        await owner.post(f"/actors/{owners_records['actor_id']}/shares", json={"org_id": STRANGER})
    ).status_code == 200
    grantee = stack.client("kyc", stack.token(org=STRANGER, roles=("admin", "analyst")))
    openapi = (await grantee.get("/openapi.json")).json()

    for method, template in operations(openapi):
        if not {"{actor_id}", "{licence_id}"} & set(template.split("/")) or template.endswith("/{org_id}"):
            continue
        path = template.format(**owners_records)
        body = None if method in NO_BODY else BODIES[(method, template)]
        response = await grantee.request(method, path, json=body, headers=IF_MATCH if method == "delete" else {})

        if method == "get":
            expected = (200, None) if template in SHARED_READS else (403, "not_shared")
        else:
            expected = (403, "read_only_share")
        assert (response.status_code, response.json().get("code") if response.status_code != 200 else None) == (
            expected
        ), (method, path, response.text)

    licences = (await grantee.get("/licences")).json()["items"]
    assert [item["id"] for item in licences] == [owners_records["licence_id"]]
    assert licences == (await grantee.get(f"/actors/{owners_records['actor_id']}/licences")).json()
    assert [a["id"] for a in (await grantee.get("/actors")).json()["items"]] == [owners_records["actor_id"]]
    for link in ("actor_id", "licence_id"):
        upload = await grantee.post(
            "/documents",
            data={"doc_type": "licence", link: owners_records[link]},
            files={"file": ("permit.pdf", PDF, "application/pdf")},
        )
        assert upload.status_code == 403 and upload.json()["code"] == "read_only_share", link
    unshare = await grantee.delete(f"/actors/{owners_records['actor_id']}/shares/{STRANGER}")
    assert unshare.status_code == 403 and unshare.json()["code"] == "read_only_share"
