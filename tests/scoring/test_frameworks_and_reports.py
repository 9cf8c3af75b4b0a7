"""Framework uploads (a malformed one keeps the previous version), evidence in the S3 server, the PDF and the SVG."""

from __future__ import annotations

import hashlib
from pathlib import Path
from uuid import uuid4

import pypdfium2

from libs.common.storage import make_store, object_key
from services.scoring import catalog
from tests.scoring.support import PDF, PNG, SHIPPED, all_met, answered, client, draft


def craft_source(version: str) -> str:
    return (SHIPPED / "craft-2.0.yaml").read_text().replace('version: "2.0"', f'version: "{version}"')


async def test_an_uploaded_version_comes_into_force_and_a_malformed_one_leaves_it_there(stack):
    http = client(stack)
    uploaded = await http.post("/frameworks", json={"source": craft_source("2.1")})
    assert uploaded.status_code == 201 and uploaded.json()["in_force"] is True
    broken = craft_source("2.2").replace('  - id: "1.2"\n', '  - id: "1.2"\n    weight: heavy\n', 1)
    line = broken.splitlines().index("    weight: heavy") + 1

    refused = await http.post("/frameworks", json={"source": broken})

    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["code"] == "invalid_framework"
    assert (problem["problems"][0]["path"], problem["problems"][0]["line"]) == ("requirements[1].weight", line)
    listed = (await http.get("/frameworks")).json()["items"]
    assert [(f["version"], f["in_force"]) for f in listed if f["code"] == "craft"] == [("2.0", False), ("2.1", True)]
    assert (await draft(http))["framework_version"] == "2.1"
    assert (await client(stack, org="org-b").get("/frameworks/craft/2.1")).status_code == 404
    again = await http.post("/frameworks", json={"source": craft_source("2.1")})
    assert again.status_code == 409 and again.json()["code"] == "framework_version_exists"
    dangling = craft_source("2.3").replace('group: "4", any_gap', 'group: "9", any_gap')
    rule = await http.post("/frameworks", json={"source": dangling})
    assert rule.status_code == 422 and rule.json()["code"] == "rule_refers_to_nothing"


def test_a_malformed_file_in_the_folder_leaves_the_version_before_it_in_force(tmp_path: Path):
    (tmp_path / "craft-2.0.yaml").write_text(craft_source("2.0"))
    (tmp_path / "craft-2.1.yaml").write_text(craft_source("2.1").replace("outcomes:", "outcome:"))

    frameworks, problems = catalog.load_folder(tmp_path)

    assert [f.key for f in frameworks] == ["craft@2.0"]
    assert catalog.in_force(frameworks, "craft").version == "2.0"  # type: ignore[union-attr]
    assert {p.file for p in problems} == {"craft-2.1.yaml"} and any(p.line for p in problems)


async def test_evidence_is_stored_in_s3_by_hash_and_listed_in_a_pdf_that_renders(stack):
    http = client(stack)
    assessment = await answered(http, await draft(http, subject_id=str(uuid4())), all_met(**{"4.1": "not_met"}))
    url = f"/assessments/{assessment['id']}/evidence"

    photo = await http.post(
        url, data={"kind": "photo", "requirement_id": "5.2"}, files={"file": ("pit.png", PNG, "image/png")}
    )
    permit = await http.post(
        url, data={"kind": "document", "requirement_id": "2.1"}, files={"file": ("p.pdf", PDF, "application/pdf")}
    )
    note = await http.post(url, data={"kind": "text", "text": "Visited on 3 November; 41 miners met."})

    assert photo.status_code == permit.status_code == note.status_code == 201, photo.text
    assert photo.json()["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert await make_store(stack.settings("scoring")).exists(object_key(hashlib.sha256(PNG).hexdigest()))
    content = await http.get(f"{url}/{permit.json()['id']}/content")
    assert content.content == PDF and content.headers["content-type"] == "application/pdf"
    fake = await http.post(url, data={"kind": "photo"}, files={"file": ("x.png", PDF, "image/png")})
    assert fake.status_code == 415 and fake.json()["code"] == "content_type_mismatch"
    unknown = await http.post(url, data={"kind": "text", "text": "x", "requirement_id": "77"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_requirement"

    pdf = await http.get(f"/assessments/{assessment['id']}/summary.pdf")

    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    document = pypdfium2.PdfDocument(pdf.content)
    assert len(document) == 1
    text = document[0].get_textpage().get_text_range()
    assert "Engage with a mitigation plan" in text and hashlib.sha256(PNG).hexdigest() in text.replace("\r\n", "")
    bitmap = document[0].render(scale=1).to_pil().convert("L")
    dark = sum(1 for value in bitmap.getdata() if value < 128)
    assert dark > 500  # ink on the page, not a blank one
    document.close()
