"""The actor and the mine site as domain objects: each method changes the aggregate and returns the event that tells
it, with the state after the change; no fixtures, no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from libs.common.errors import Conflict, Forbidden, NotFound
from libs.common.events.kyc import (
    ActorApproved,
    ActorReviewRequested,
    ActorUpdated,
    InspectionRecorded,
    MineSiteStatusChanged,
)
from services.kyc.domain.actors import Actor
from services.kyc.domain.review import RiskAssessment
from services.kyc.domain.risk import AreaRisk
from services.kyc.domain.screening import ScreeningGate
from services.kyc.domain.sites import Inspection, MineSite, SiteStatus
from services.kyc.domain.versioned import UNNUMBERED

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
CLEAR = ScreeningGate(blocking_hits=0, pending_screenings=0)
MONTHS = {"high": 12, "medium": 24, "low": 36}


def registered(**values: object) -> Actor:
    actor, _ = Actor.register(
        {"actor_type": "trader", "legal_name": "Comptoir Minier", "country": "CD", **values},
        org_id="org-a",
        by="fiona",
        now=NOW,
    )
    return actor


def under_review() -> Actor:
    actor = registered()
    actor.submit(by="fiona", now=NOW)
    actor.start_review(by="bob", now=NOW)
    return actor


def test_registering_tells_the_new_draft_with_its_state():
    actor, event = Actor.register(
        {"actor_type": "trader", "legal_name": "  Comptoir   Minier ", "country": "cd"},
        org_id="org-a",
        by="fiona",
        now=NOW,
    )

    assert (actor.kyc_status, actor.version, actor.legal_name) == ("draft", 1, "Comptoir Minier")
    assert (event.actor_id, event.aggregate_version) == (actor.id, UNNUMBERED)  # numbered when saved
    assert (event.actor.kyc_status, event.actor.country) == ("draft", "CD")


def test_approving_returns_actor_approved_with_the_state_it_decided():
    actor = under_review()

    event = actor.approve(
        by="bob",
        assessment=RiskAssessment("medium", ("aggregating_actor_type",), 3),
        screening=CLEAR,
        review_months=MONTHS,
        now=NOW,
    )

    assert isinstance(event, ActorApproved) and event.approved_by == "bob" and event.risk_table_version == 3
    assert (event.actor.kyc_status, event.actor.risk_level, event.actor.next_review_date) == (
        "approved",
        "medium",
        date(2027, 3, 14),
    )
    assert actor.version == 4  # registered 1, submitted 2, review started 3, approved 4


def test_the_approval_rules_refuse_before_anything_changes():
    actor = under_review()
    assessment = RiskAssessment("low", ())

    with pytest.raises(Forbidden) as four_eyes:
        actor.approve(by="fiona", assessment=assessment, screening=CLEAR, review_months=MONTHS, now=NOW)
    with pytest.raises(Conflict) as open_hits:
        actor.approve(
            by="bob",
            assessment=assessment,
            screening=ScreeningGate(blocking_hits=1, pending_screenings=0),
            review_months=MONTHS,
            now=NOW,
        )

    assert (four_eyes.value.code, open_hits.value.code) == ("four_eyes", "open_hits")
    assert (actor.kyc_status, actor.version) == ("under_review", 3)


def test_a_stale_version_is_one_conflict_for_every_aggregate():
    actor = registered()
    site, _ = MineSite.register(
        {
            "name": "Kamituga",
            "location": {"type": "Point", "coordinates": [28.1, -3.0]},
            "country": "CD",
            "region": None,
            "minerals": ["7108"],
        },
        org_id="org-a",
        area=AreaRisk("standard", None),
        by="ana",
        now=NOW,
        border_tolerance_km=10,
    )

    for aggregate in (actor, site):
        aggregate.check_version(1)
        aggregate.check_version(None)
        with pytest.raises(Conflict) as stale:
            aggregate.check_version(2)
        assert (stale.value.code, stale.value.extra) == ("stale_version", {"current_version": 1})


def test_an_update_that_changes_nothing_tells_nothing_and_keeps_the_version():
    actor = registered()

    assert actor.update({"legal_name": "Comptoir Minier"}, by="ana", now=NOW) == []
    [event] = actor.update({"legal_name": "CMG"}, by="ana", now=NOW)

    assert isinstance(event, ActorUpdated) and event.changed_fields == ["legal_name"]
    assert event.actor.legal_name == "CMG" and actor.version == 2  # a draft: no review to request


def test_a_material_change_to_an_approved_actor_requests_its_review_and_says_why():
    actor = under_review()
    actor.approve(by="bob", assessment=RiskAssessment("medium", ()), screening=CLEAR, review_months=MONTHS, now=NOW)
    later = NOW + timedelta(days=40)

    updated, requested = actor.update({"legal_name": "CMG Holdings"}, by="ana", now=later)

    assert isinstance(updated, ActorUpdated) and isinstance(requested, ActorReviewRequested)
    assert (requested.reason, requested.changed_fields, requested.requested_by) == (
        "material_change",
        ["legal_name"],
        "ana",
    )
    assert (requested.previous_review_date, requested.next_review_date) == (date(2027, 3, 14), later.date())
    assert (actor.kyc_status, actor.review_reason, requested.actor.review_reason) == (
        "approved",
        "material_change",
        "material_change",
    )
    assert actor.update({"contacts": []}, by="ana", now=later)[1:] == []  # contacts are not material
    actor.complete_review(
        by="bob", assessment=RiskAssessment("medium", ()), screening=CLEAR, review_months=MONTHS, now=later
    )
    assert (actor.review_reason, actor.review_requested_fields) == (None, [])


def test_sharing_is_told_once_and_the_state_lists_the_grantees():
    actor = registered()

    share, event = actor.share_with("smelter-1", by="alice", now=NOW)
    again = actor.share_with("smelter-1", by="alice", now=NOW)

    assert share.grantee_org_id == "smelter-1" and event.actor.shared_with == ["smelter-1"] and again is None
    assert actor.version == 1  # a share does not make a client's pending edit stale
    assert actor.unshare("smelter-1", by="alice").actor.shared_with == []
    with pytest.raises(NotFound):
        actor.unshare("smelter-1", by="alice")


def test_an_inspection_tells_the_site_before_it_then_each_status_step_it_makes():
    site, _ = MineSite.register(
        {
            "name": "Kamituga",
            "location": {"type": "Point", "coordinates": [28.1, -3.0]},
            "country": "CD",
            "region": None,
            "minerals": ["7108"],
        },
        org_id="org-a",
        area=AreaRisk("standard", None),
        by="ana",
        now=NOW,
        border_tolerance_km=10,
    )
    site.new_decisions.clear()  # as the save leaves it
    inspected_on = NOW.date() - timedelta(days=400)  # green then, lapsed to blue a year later

    events = site.record_inspection(
        Inspection(uuid4(), inspected_on, SiteStatus.GREEN), by="bob", now=NOW, area=AreaRisk("high", 2)
    )

    assert [type(e) for e in events] == [InspectionRecorded, MineSiteStatusChanged, MineSiteStatusChanged]
    assert [e.site.status for e in events] == ["blue", "green", "blue"]
    assert events[0].site.area_risk == "standard" and events[1].site.area_risk == "high"
    assert [(d.previous, d.status, d.changed_by) for d in site.new_decisions] == [
        (SiteStatus.BLUE, SiteStatus.GREEN, "bob"),
        (SiteStatus.GREEN, SiteStatus.BLUE, "bob"),
    ]
    assert site.version == 2  # one decision, however many steps
