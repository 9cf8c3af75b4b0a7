"""Evidence in the S3 server: sha256 kept, bytes back as stored, oversized or mislabelled files refused."""

from __future__ import annotations

import hashlib

from tests.incidents.steps import report_body

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_evidence_is_stored_with_its_sha256_and_read_back(stack):
    client = stack.client("incidents", stack.token(roles=("field_agent",)))
    incident = (await client.post("/incidents", json=report_body())).json()
    path = f"/incidents/{incident['id']}/attachments"

    created = await client.post(path, files={"file": ("pit.png", PNG, "image/png")})
    [listed] = (await client.get(path)).json()
    content = await client.get(f"{path}/{listed['id']}/content")

    assert created.status_code == 201, created.text
    assert listed["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert content.content == PNG


async def test_oversized_and_mislabelled_files_are_problems(stack):
    client = stack.client("incidents", stack.token(roles=("analyst",)), incidents_attachment_max_bytes=50)
    incident = (await client.post("/incidents", json=report_body())).json()
    path = f"/incidents/{incident['id']}/attachments"

    big = await client.post(path, files={"file": ("pit.png", PNG, "image/png")})
    fake = await client.post(path, files={"file": ("pit.png", b"GIF89a", "image/png")})

    assert big.status_code == 413 and big.json()["code"] in ("file_too_large", "body_too_large")
    assert (fake.status_code, fake.json()["code"]) == (415, "content_type_mismatch")
    assert (await client.get(path)).json() == []
