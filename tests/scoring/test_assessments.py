"""Assessments over HTTP: outcomes, states, four eyes, events, progress, bad input as problems."""

from __future__ import annotations

from uuid import uuid4

from tests.scoring.support import all_met, answered, client, draft, requirement_ids, submitted
from tests.support.outbox import outbox_rows


async def test_a_module_3_risk_disengages_at_95_percent_and_the_review_publishes_the_outcome(stack):
    assessor, reviewer = client(stack, "analyst", user="fiona"), client(stack, "analyst", user="rob")
    subject = str(uuid4())

    assessment = await submitted(assessor, subject, all_met(**{"3.2": "partly_met", "5.1": "partly_met"}))

    assert (assessment["status"], assessment["label"]) == ("submitted", "verified")
    assert assessment["result"]["overall"] == 95.0 and assessment["result"]["outcome"] == "disengage"
    own = await assessor.post(f"/assessments/{assessment['id']}/review", json={"version": assessment["version"]})
    assert own.status_code == 403 and own.json()["code"] == "reviewer_is_assessor"
    reviewed = await reviewer.post(f"/assessments/{assessment['id']}/review", json={"version": assessment["version"]})
    assert reviewed.status_code == 200 and reviewed.json()["reviewer"] == "rob"
    rows = await outbox_rows(stack, service="scoring")
    assert [r.event_type for r in rows] == ["AssessmentSubmitted.v1", "AssessmentReviewed.v1"]
    assert all(r.key == assessment["id"] for r in rows) and '"outcome":"disengage"' in rows[1].payload


async def test_bad_input_answers_problems_with_stable_codes(stack):
    http = client(stack)
    unknown = await http.post(
        "/assessments",
        json={"framework": "craft", "framework_version": "9.9", "subject_type": "site", "subject_id": str(uuid4())},
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_framework_version"
    assessment = await draft(http)
    body = {"version": assessment["version"], "answers": {"99.1": {"answer": "met"}}}
    lacking = await http.patch(f"/assessments/{assessment['id']}/answers", json=body)
    assert lacking.status_code == 422 and lacking.json()["code"] == "unknown_requirement"
    partial = await answered(http, assessment, {"1.1": "met"})
    missing = await http.post(f"/assessments/{partial['id']}/submit", json={"version": partial["version"]})
    assert missing.status_code == 422 and missing.json()["code"] == "missing_answers"
    assert len(missing.json()["requirement_ids"]) == 19
    stale = await http.post(f"/assessments/{partial['id']}/submit", json={"version": 1})
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    assert await outbox_rows(stack, service="scoring") == []
    assert (await client(stack, org="org-b").get(f"/assessments/{assessment['id']}")).status_code == 404


async def test_three_assessments_read_back_as_a_progress_series_with_deltas_and_changes(stack):
    http = client(stack)
    subject = str(uuid4())
    first = await submitted(http, subject, all_met(**{"2.1": "not_met", "4.2": "not_met", "5.1": "not_met"}))
    second = await submitted(http, subject, all_met(**{"4.2": "partly_met", "5.1": "not_met"}))
    third = await submitted(http, subject, all_met())
    await submitted(http, subject, all_met(**{"1.1": "not_met"}), self_assessment=True)

    series = (await http.get("/progress", params={"subject_id": subject, "framework": "craft"})).json()

    points = series["points"]
    assert [p["assessment_id"] for p in points] == [first["id"], second["id"], third["id"]]
    assert [p["outcome"] for p in points] == ["not_eligible", "engage_with_mitigation_plan", "engage"]
    assert points[0]["delta"] == {} and points[1]["delta"]["module"]["2"] == 33.33
    assert points[2]["delta"]["module"]["4"] == 12.5
    assert [c["requirement_id"] for c in points[1]["changed"]] == ["2.1", "4.2"]
    own = await http.get("/progress", params={"subject_id": subject, "framework": "craft", "self_assessment": True})
    assert [p["label"] for p in own.json()["points"]] == ["self-assessment"]
    compared = (await http.get(f"/assessments/{first['id']}/compare/{third['id']}")).json()
    assert {c["requirement_id"] for c in compared["second"]["changed"]} == {"2.1", "4.2", "5.1"}
    chart = await http.get(
        "/progress/chart.svg", params={"subject_id": subject, "framework": "craft", "dimension": "category"}
    )
    assert chart.status_code == 200 and chart.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in chart.content and b"Commercialization" in chart.content


async def test_the_series_follows_the_day_each_assessment_was_made_not_when_it_was_recorded(stack):
    http, reviewer = client(stack), client(stack, "analyst", user="rob")
    subject = str(uuid4())
    recent = await submitted(http, subject, all_met(), assessed_on="2026-06-10")
    older = await submitted(http, subject, all_met(**{"4.2": "not_met"}), assessed_on="2025-11-03")

    points = (await http.get("/progress", params={"subject_id": subject, "framework": "craft"})).json()["points"]

    assert [(p["assessment_id"], p["assessed_on"]) for p in points] == [
        (older["id"], "2025-11-03"),
        (recent["id"], "2026-06-10"),
    ]
    assert points[1]["delta"]["module"]["4"] == 25.0
    for a in (recent, older):
        await reviewer.post(f"/assessments/{a['id']}/review", json={"version": a["version"]})
    rows = await outbox_rows(stack, service="scoring")
    reviewed = [r for r in rows if r.event_type == "AssessmentReviewed.v1"]
    assert '"assessed_on":"2025-11-03"' in reviewed[1].payload and '"reviewed_at":' in reviewed[1].payload
    future = await http.post(
        "/assessments",
        json={"framework": "craft", "subject_type": "actor", "subject_id": subject, "assessed_on": "2999-01-01"},
    )
    assert future.status_code == 422 and future.json()["code"] == "assessed_on_in_future"
    not_a_date = await http.post(
        "/assessments", json={"framework": "craft", "subject_type": "actor", "subject_id": subject, "assessed_on": 0}
    )
    assert not_a_date.status_code == 422


async def test_the_shipped_fairmined_file_is_a_higher_step_certifiable_only_when_every_area_is_met(stack):
    http = client(stack)
    ids = requirement_ids("fairmined-1.0.yaml")
    subject = str(uuid4())
    everything = await submitted(http, subject, dict.fromkeys(ids, "met"), framework="fairmined")
    short = await submitted(http, subject, {**dict.fromkeys(ids, "met"), "PR.1": "partly_met"}, framework="fairmined")

    assert (everything["framework"], everything["result"]["outcome"]) == ("fairmined", "certifiable")
    assert short["result"]["outcome"] == "progressing"
    assert short["result"]["percent"]["area"]["premium"] == 50.0
    assert short["result"]["percent"]["area"]["labour"] == 100.0


async def test_an_oecd_alignment_at_72_percent_is_level_2_with_what_keeps_it_below_90(stack):
    http = client(stack)
    definition = (await http.get("/frameworks/oecd-alignment/1.0")).json()
    standard = [r["id"] for r in definition["requirements"] if r["counts_toward"]["scope"] == "standard"]
    answers = {r["id"]: "not_applicable" for r in definition["requirements"]}
    answers.update({i: "aligned" for i in standard[:18]} | {i: "not_aligned" for i in standard[18:]})
    assessment = await draft(http, framework="oecd-alignment", subject_type="mechanism")

    result = (await answered(http, assessment, answers))["result"]

    assert result["percent"]["scope"]["standard"] == 72.0 and result["outcome"] == "level_2"
    assert result["gap"]["target"] == 90 and len(result["gap"]["to_reach"]) == 5
    assert result["percent"]["section"] == {"A": 100.0, "B": 100.0, "C": 30.0}


async def test_auditors_read_only_and_smelters_do_not_assess(stack):
    auditor = client(stack, "auditor")
    refused = await auditor.post(
        "/assessments", json={"framework": "craft", "subject_type": "actor", "subject_id": str(uuid4())}
    )
    assert refused.status_code == 403 and refused.json()["code"] == "missing_role"
    smelter = stack.client("scoring", stack.token(kind="smelter", roles=("admin",)))
    upload = await smelter.post("/frameworks", json={"source": "code: x"})
    assert upload.status_code == 403 and upload.json()["code"] == "operator_only"
    assert (await auditor.get("/frameworks")).status_code == 200
    assert (await stack.client("scoring").get("/frameworks")).status_code == 401
