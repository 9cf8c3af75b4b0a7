"""Documents over HTTP: checked, stored by sha256, linked within the organisation, nothing half-written."""

from __future__ import annotations

import hashlib

from libs.common.storage import make_store, object_key
from services.kyc.tables.register import DocumentRow
from tests.kyc.register_support import PDF, PNG, client, count, create_actor, outbox_rows, payloads, person_body


def upload(
    http,
    data: bytes = PDF,
    content_type: str = "application/pdf",
    *,  # type: ignore[no-untyped-def]
    filename: str = "permit.pdf",
    doc_type: str = "licence",
    **links: str,
):
    return http.post("/documents", data={"doc_type": doc_type, **links}, files={"file": (filename, data, content_type)})


async def object_exists(stack, data: bytes) -> bool:  # type: ignore[no-untyped-def]
    store = make_store(stack.settings("kyc"))
    return await store.exists(object_key(hashlib.sha256(data).hexdigest()))


async def test_an_uploaded_document_is_stored_by_hash_and_can_be_downloaded(stack):
    http = client(stack, "field_agent", user="fiona")
    actor = await create_actor(http)

    response = await upload(http, actor_id=actor["id"], filename="../scans/Permis d'export.pdf")

    assert response.status_code == 201, response.text
    document = response.json()
    assert document["sha256"] == hashlib.sha256(PDF).hexdigest() and document["size"] == len(PDF)
    assert (document["filename"], document["uploaded_by"]) == ("Permis d'export.pdf", "fiona")
    assert await object_exists(stack, PDF)
    assert (await http.get(f"/documents/{document['id']}")).json() == document
    content = await http.get(f"/documents/{document['id']}/content")
    assert content.content == PDF and content.headers["content-type"] == "application/pdf"
    event = (await payloads(stack, "DocumentUploaded"))[0]
    assert (event["document_id"], event["actor_id"]) == (document["id"], actor["id"])
    assert (await outbox_rows(stack, "DocumentUploaded"))[0].key == actor["id"]


async def test_an_oversized_document_is_refused_and_nothing_is_written(stack):
    http = client(stack, kyc_document_max_bytes=64)
    data = PDF + b"0" * 100

    response = await upload(http, data)

    assert response.status_code == 413 and response.json()["code"] == "file_too_large"
    assert await count(stack, DocumentRow) == 0 and await outbox_rows(stack) == []
    assert not await object_exists(stack, data)


async def test_a_document_whose_bytes_are_not_its_declared_type_is_refused(stack):
    http = client(stack)
    data = PNG + b"declared as pdf"

    response = await upload(http, data, "application/pdf")

    assert response.status_code == 415 and response.json()["code"] == "content_type_mismatch"
    assert await count(stack, DocumentRow) == 0 and await outbox_rows(stack) == []
    assert not await object_exists(stack, data)


async def test_only_pdf_and_images_are_accepted(stack):
    http = client(stack)
    response = await upload(http, b"just text", "text/plain", filename="notes.txt")
    assert response.status_code == 415 and response.json()["code"] == "unsupported_content_type"
    empty = await upload(http, b"", "application/pdf")
    assert empty.status_code == 422
    assert await count(stack, DocumentRow) == 0


async def test_a_generic_type_is_read_from_the_extension_and_still_checked(stack):
    http = client(stack)
    ok = await upload(http, PNG, "application/octet-stream", filename="site.png", doc_type="site_photo")
    assert ok.status_code == 201 and ok.json()["content_type"] == "image/png"
    wrong = await upload(http, PDF, "application/octet-stream", filename="site.png")
    assert wrong.status_code == 415 and wrong.json()["code"] == "content_type_mismatch"


async def test_links_must_point_into_the_callers_organisation(stack):
    theirs = await create_actor(client(stack, org="org-b"))
    http = client(stack)

    for link in ("actor_id", "person_id", "licence_id", "site_id", "inspection_id"):
        response = await upload(http, **{link: theirs["id"]})

        assert response.status_code == 422, link
        problem = response.json()
        assert (problem["code"], problem["field"]) == (f"unknown_{link.removesuffix('_id')}", link)
        assert theirs["id"] not in problem["detail"]
    assert await count(stack, DocumentRow) == 0


async def test_a_persons_document_is_filed_under_its_actor(stack):
    http = client(stack)
    actor = await create_actor(http, registration_number="1")
    other = await create_actor(http, registration_number="2")
    person = (await http.post(f"/actors/{actor['id']}/persons", json=person_body())).json()

    response = await upload(http, doc_type="identity_document", person_id=person["id"])

    assert response.json()["actor_id"] == actor["id"]
    mismatch = await upload(http, person_id=person["id"], actor_id=other["id"])
    assert mismatch.status_code == 422 and mismatch.json()["code"] == "link_mismatch"
    listed = (await http.get("/documents", params={"actor_id": actor["id"]})).json()
    assert [d["id"] for d in listed["items"]] == [response.json()["id"]]


async def test_the_same_bytes_twice_share_one_object(stack):
    http = client(stack)
    first, second = (await upload(http)).json(), (await upload(http, filename="copy.pdf")).json()
    assert first["id"] != second["id"] and first["sha256"] == second["sha256"]
    assert await count(stack, DocumentRow) == 2


async def test_another_organisation_cannot_read_a_document(stack):
    document = (await upload(client(stack))).json()
    other = client(stack, org="org-b")
    assert (await other.get(f"/documents/{document['id']}")).status_code == 404
    assert (await other.get(f"/documents/{document['id']}/content")).status_code == 404
    assert (await other.get("/documents")).json()["total"] == 0


async def test_an_auditor_cannot_upload(stack):
    response = await upload(client(stack, "auditor"))
    assert response.status_code == 403 and response.json()["code"] == "missing_role"
