"""Incident rules: taxonomy, transitions, escalation, deadlines computed from a given time. No I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from libs.common.errors import Conflict, Invalid
from services.incidents import domain
from services.incidents.domain import Action, Incident

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
DUE = {1: 3, 2: 14, 3: 30}
SIX_MONTHS = timedelta(days=183)


def reported(category: str = "annex2.forced_labour") -> Incident:
    incident, _ = Incident.report(
        org_id="org-a",
        reference="INC-1",
        category=domain.shipped_taxonomy().category(category),
        by="alice",
        now=T0,
        due_days=DUE,
        title="t",
        summary="s",
        source="staff",
    )
    return incident


def test_the_shipped_taxonomy_has_every_group_with_levels_and_responses():
    taxonomy = domain.shipped_taxonomy()

    assert len(taxonomy.groups) == 10
    assert taxonomy.category("armed_groups.support").level == 1
    assert taxonomy.category("environment.mercury").response == "monitor"
    with pytest.raises(Invalid) as refused:
        taxonomy.category("nope.nope")
    assert refused.value.code == "unknown_category"


def test_a_bad_taxonomy_file_is_refused_on_load():
    with pytest.raises(Invalid):
        domain.parse_taxonomy(
            {
                "groups": [
                    {
                        "code": "g",
                        "name": "G",
                        "categories": [{"code": "g.x", "name": "X", "level": 4, "response": "monitor"}],
                    }
                ]
            }
        )


def test_verification_is_due_by_level():
    assert reported().verification_due_date == date(2026, 6, 4)
    assert reported("environment.mercury").verification_due_date == date(2026, 7, 1)


def test_verification_overdue_from_the_given_time():
    incident = reported()

    assert domain.overdue(incident, now=T0 + timedelta(days=3), max_open=SIX_MONTHS) == []
    [late] = domain.overdue(incident, now=T0 + timedelta(days=4), max_open=SIX_MONTHS)
    assert (late.kind, late.due_date) == ("verification", date(2026, 6, 4))


def test_an_open_action_past_its_due_date_is_overdue_and_a_done_one_is_not():
    incident = reported()
    incident.triage(by="a", now=T0)
    incident.verify(by="a", now=T0)
    late, done = Action(uuid4(), "a", "bob", date(2026, 6, 10)), Action(uuid4(), "b", "bob", date(2026, 6, 10))
    incident.plan_mitigation([late, done], by="a", now=T0)
    incident.update_action(done.id, status="done", note=None, by="a", now=T0)

    [missed] = domain.overdue(incident, now=T0 + timedelta(days=10), max_open=SIX_MONTHS)

    assert (missed.kind, missed.action_id) == ("action", late.id)


def test_an_incident_open_longer_than_six_months_is_flagged():
    incident = reported()
    incident.triage(by="a", now=T0)
    incident.verify(by="a", now=T0)

    assert domain.overdue(incident, now=T0 + timedelta(days=183), max_open=SIX_MONTHS) == []
    [flag] = domain.overdue(incident, now=T0 + timedelta(days=184), max_open=SIX_MONTHS)
    assert flag.kind == "max_open"


def test_transitions_out_of_order_are_conflicts():
    incident = reported()

    with pytest.raises(Conflict) as closing:
        incident.close(outcome="x", by="a", now=T0)
    with pytest.raises(Conflict):
        incident.verify(by="a", now=T0)
    assert closing.value.code == "cannot_close"


def test_escalation_raises_level_and_keeps_the_strongest_response():
    incident = reported("labour_community.labour")

    event = incident.escalate(level=2, reason="more workers", by="a", now=T0)

    assert (incident.level, incident.required_response, event.previous_level) == (2, "mitigate", 3)
    with pytest.raises(Invalid):
        incident.escalate(level=3, reason="x", by="a", now=T0)


def test_every_event_carries_the_next_version_and_the_state():
    incident = reported()
    triaged = incident.triage(by="a", now=T0)

    assert (triaged.aggregate_version, triaged.incident.status) == (2, "triage")
    assert not hasattr(triaged.incident, "reporter_name")
