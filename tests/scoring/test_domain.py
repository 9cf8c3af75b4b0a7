"""Frameworks as data and what answers add up to: no fixtures, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.scoring.domain.frameworks import FrameworkInvalid, parse
from services.scoring.domain.results import evaluate

SHIPPED = Path("services/scoring/frameworks")
AT = datetime(2026, 12, 1, tzinfo=UTC)


def shipped(name: str):  # type: ignore[no-untyped-def]
    return parse((SHIPPED / name).read_text(), file=name)


def craft_answers(**overrides: str) -> dict[str, str]:
    answers = {r.id: "met" for r in shipped("craft-2.0.yaml").requirements}
    return {**answers, **overrides}


def test_craft_all_met_engages():
    result = evaluate(shipped("craft-2.0.yaml"), craft_answers(), at=AT)
    assert result.outcome == "engage" and result.overall == 100 and result.percent["module"]["3"] == 100


def test_a_module_3_risk_disengages_even_at_95_percent_overall():
    craft = shipped("craft-2.0.yaml")

    result = evaluate(craft, craft_answers(**{"3.2": "partly_met", "5.1": "partly_met"}), at=AT)

    assert result.overall == 95.0
    assert result.outcome == "disengage"
    assert result.percent["module"]["3"] == 87.5


def test_module_2_unmet_is_not_eligible_before_anything_else():
    result = evaluate(shipped("craft-2.0.yaml"), craft_answers(**{"2.1": "not_met", "3.1": "not_met"}), at=AT)
    assert result.outcome == "not_eligible"


def test_module_4_gaps_engage_with_a_mitigation_plan_and_name_what_is_missing():
    result = evaluate(shipped("craft-2.0.yaml"), craft_answers(**{"4.2": "partly_met", "5.4": "not_applicable"}), at=AT)
    assert result.outcome == "engage_with_mitigation_plan"
    assert [m.requirement_id for m in result.missing] == ["4.2"]
    assert result.percent["category"]["gender"] == 100  # 3.4 met, 5.4 left out
    assert result.percent["area"]["organisation_legality"] is not None  # one answer feeds all three views


def test_oecd_alignment_at_72_percent_is_level_2_with_the_items_short_of_90():
    oecd = shipped("oecd-alignment-1.0.yaml")
    standard = [r.id for r in oecd.requirements if r.counts_toward["scope"] == "standard"]
    answers = {i: "aligned" for i in standard}
    answers.update({i: "not_aligned" for i in standard[-7:]})
    answers.update({r.id: "not_applicable" for r in oecd.requirements if r.id not in standard})

    result = evaluate(oecd, answers, at=AT)

    assert result.percent["scope"]["standard"] == 72.0 and result.overall == 72.0
    assert result.outcome == "level_2"
    assert result.gap is not None and result.gap.target == 90 and not result.gap.reached
    assert len(result.gap.to_reach) == 5  # 4 % each: 72 + 5 x 4 = 92
    assert {s.requirement_id for s in result.gap.to_reach} <= set(standard[-7:])
    assert result.gap_due == datetime(2027, 12, 1, tzinfo=UTC)
    level_1 = next(t for t in result.thresholds if t.outcome == "level_1")
    assert not level_1.reached and level_1.to_reach
    assert result.percent["section"]["A"] == 100 and result.percent["section"]["C"] == 30.0


def test_level_1_needs_the_implementation_assessed_and_aligned():
    oecd = shipped("oecd-alignment-1.0.yaml")
    assert evaluate(oecd, {r.id: "aligned" for r in oecd.requirements}, at=AT).outcome == "level_1"
    only_standard = {
        r.id: "aligned" if r.counts_toward["scope"] == "standard" else "not_applicable" for r in oecd.requirements
    }
    assert evaluate(oecd, only_standard, at=AT).outcome == "level_2"


def test_a_malformed_file_names_its_line_and_path():
    source = (SHIPPED / "craft-2.0.yaml").read_text().replace("weight: 1\n", "")
    source = source.replace('  - id: "1.2"\n', '  - id: "1.2"\n    weight: heavy\n', 1)
    line = source.splitlines().index("    weight: heavy") + 1

    with pytest.raises(FrameworkInvalid) as raised:
        parse(source, file="craft-2.1.yaml")

    [problem] = raised.value.extra["problems"]
    assert (problem["file"], problem["path"], problem["line"]) == ("craft-2.1.yaml", "requirements[1].weight", line)
    assert raised.value.code == "invalid_framework"


def test_a_rule_that_refers_to_nothing_is_refused():
    source = (SHIPPED / "craft-2.0.yaml").read_text().replace('group: "4", any_gap', 'group: "9", any_gap')
    with pytest.raises(FrameworkInvalid) as raised:
        parse(source, file="craft.yaml")
    assert raised.value.code == "rule_refers_to_nothing"
    [problem] = raised.value.extra["problems"]
    assert problem["path"] == "outcomes.rules[2].all[0]" and "module '9'" in problem["message"]


def test_yaml_that_does_not_parse_names_its_line():
    with pytest.raises(FrameworkInvalid) as raised:
        parse("code: x\nversion: [1\n", file="x.yaml")
    assert raised.value.extra["problems"][0]["line"] is not None


def test_an_assessment_moves_draft_submitted_reviewed_and_says_so_in_its_events():
    from uuid import uuid4

    from libs.common.errors import Conflict, Forbidden, Invalid
    from services.scoring.domain.assessments import Answer, Assessment

    craft = shipped("craft-2.0.yaml")
    assessment = Assessment.start(
        craft, org_id="org-a", subject_type="site", subject_id=uuid4(), self_assessment=True, by="fiona", now=AT
    )
    with pytest.raises(Invalid):
        assessment.record_answers(craft, {"1.1": Answer("maybe")})
    with pytest.raises(Invalid):
        assessment.submit(craft, now=AT)
    assessment.record_answers(craft, {i: Answer("met") for i in craft_answers()})

    submitted = assessment.submit(craft, now=AT)

    assert (submitted.outcome, submitted.self_assessment, submitted.framework_version) == ("engage", True, "2.0")
    with pytest.raises(Conflict):
        assessment.record_answers(craft, {"1.1": Answer("not_met")})
    with pytest.raises(Forbidden):
        assessment.review(by="fiona", note="", now=AT)
    reviewed = assessment.review(by="rob", note="checked on site", now=AT)
    assert reviewed.outcome == "engage" and assessment.status == "reviewed"
