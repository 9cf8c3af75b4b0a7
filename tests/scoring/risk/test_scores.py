"""Risk scores from events: each factor, redelivery and order, lots rising and falling with their lineage."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

from libs.common.events import kyc, scoring, traceability
from services.scoring.risk import weights
from tests.scoring.risk.events import (
    NOW,
    ORG,
    actor_state,
    approved,
    deliver,
    factor,
    incident,
    licence_added,
    lot_created,
    score_changes,
    site_event,
    suspended,
)

W = weights.load()


async def test_a_suspended_actor_scores_its_kyc_status_from_the_event_that_set_it(stack):
    actor_id = uuid4()
    [_, suspension] = await deliver(stack, approved(actor_id, 1), suspended(actor_id, 2))

    last = (await score_changes(stack, actor_id))[-1]

    assert factor(last, "kyc_status") == {
        "factor": "kyc_status",
        "value": "suspended",
        "contribution": W.actor.kyc_status["suspended"],
        "source_event_id": suspension,
    }
    assert last["aggregate_version"] == 2 and last["weights_version"] == W.version
    assert last["previous_band"] == "low" and last["band"] == "critical"


async def test_a_confirmed_hit_adds_its_points_and_a_dismissal_takes_them_back(stack):
    actor_id, hit_id = uuid4(), uuid4()
    hit = dict(
        org_id=ORG,
        hit_id=hit_id,
        actor_id=actor_id,
        actor=actor_state(actor_id),
        subject_type="actor",
        subject_id=actor_id,
        entry_id="UN-1",
        decided_by="bob",
        reason="same person",
    )
    await deliver(stack, approved(actor_id, 1))
    [confirmation] = await deliver(stack, kyc.HitConfirmed(aggregate_version=2, list_name="UN", **hit))
    confirmed = (await score_changes(stack, actor_id))[-1]
    await deliver(stack, kyc.HitDismissed(aggregate_version=3, **hit))
    dismissed = (await score_changes(stack, actor_id))[-1]

    assert factor(confirmed, "confirmed_hits")["contribution"] == W.actor.confirmed_hit
    assert factor(confirmed, "confirmed_hits")["source_event_id"] == confirmation
    assert all(f["factor"] != "confirmed_hits" for f in dismissed["factors"])
    assert dismissed["score"] < confirmed["score"]


async def test_licence_validity_counts_valid_expiring_and_expired(stack):
    actor_id, licence_id = uuid4(), uuid4()
    today = date.today()
    await deliver(stack, approved(actor_id, 1))
    none = (await score_changes(stack, actor_id))[-1]
    await deliver(stack, licence_added(actor_id, 2, licence_id, today + timedelta(days=365)))
    valid = (await score_changes(stack, actor_id))[-1]
    await deliver(
        stack,
        kyc.LicenceExpired(
            org_id=ORG,
            aggregate_version=3,
            licence_id=licence_id,
            actor_id=actor_id,
            actor=actor_state(actor_id),
            licence_type="mining",
            number="PE-1",
            valid_to=today,
        ),
    )
    expired = (await score_changes(stack, actor_id))[-1]

    assert factor(none, "licence_validity")["value"] == "none"
    assert factor(valid, "licence_validity")["contribution"] == 0
    assert factor(expired, "licence_validity")["value"] == "expired"
    assert factor(expired, "licence_validity")["contribution"] == W.actor.licence["expired"]


async def test_country_region_risk_and_open_incidents_by_level_and_the_latest_assessment(stack):
    actor_id = uuid4()
    await deliver(stack, approved(actor_id, 1, risk_level="high", risk_factors=["high_risk_area"]))
    await deliver(stack, incident(uuid4(), 1, level=1, actor_ids=[actor_id]))
    await deliver(stack, incident(uuid4(), 1, level=3, actor_ids=[actor_id]))
    [review] = await deliver(
        stack,
        scoring.AssessmentReviewed(
            org_id=ORG,
            assessment_id=uuid4(),
            subject_type="actor",
            subject_id=actor_id,
            framework="craft",
            framework_version="1",
            outcome="engage_with_mitigation_plan",
        ),
    )
    last = (await score_changes(stack, actor_id))[-1]

    assert factor(last, "country_region_risk")["contribution"] == W.actor.area_risk["high"]
    assert factor(last, "open_incidents_level_1")["contribution"] == W.incidents.points_by_level[1]
    assert factor(last, "open_incidents_level_3")["contribution"] == W.incidents.points_by_level[3]
    assert factor(last, "latest_assessment") == {
        "factor": "latest_assessment",
        "value": "engage_with_mitigation_plan",
        "contribution": W.assessment.outcomes["engage_with_mitigation_plan"],
        "source_event_id": review,
    }


async def test_the_latest_assessment_is_the_one_made_last_even_when_an_older_one_is_reviewed_after_it(stack):
    actor_id = uuid4()
    await deliver(stack, approved(actor_id, 1))

    def reviewed(outcome: str, made: date) -> scoring.AssessmentReviewed:
        return scoring.AssessmentReviewed(
            org_id=ORG, assessment_id=uuid4(), subject_type="actor", subject_id=actor_id, framework="craft",
            framework_version="2.0", outcome=outcome, assessed_on=made, reviewed_at=NOW,
        )  # fmt: skip

    await deliver(stack, reviewed("engage_with_mitigation_plan", date(2026, 6, 1)))
    await deliver(stack, reviewed("disengage", date(2025, 6, 1)))  # an old visit, recorded late
    last = (await score_changes(stack, actor_id))[-1]

    assert factor(last, "latest_assessment")["value"] == "engage_with_mitigation_plan"


async def test_a_site_scores_status_incidents_and_production_anomalies(stack):
    site_id = uuid4()
    await deliver(stack, site_event(site_id, 1, status="yellow", area_risk="high"))
    await deliver(
        stack,
        traceability.CustodyAnomalyDetected(
            org_id=ORG,
            anomaly_id=uuid4(),
            kind="capacity_exceeded",
            detail="above capacity",
            site_ids=[site_id],
            detected_at=NOW,
        ),
    )
    last = (await score_changes(stack, site_id))[-1]

    assert factor(last, "site_status")["contribution"] == W.site.status["yellow"]
    assert factor(last, "area_risk")["contribution"] == W.site.area_risk["high"]
    assert factor(last, "production_anomalies")["contribution"] == W.site.anomaly


async def test_an_event_twice_and_an_older_one_late_change_nothing(stack):
    actor_id, site_id = uuid4(), uuid4()
    first, newer = approved(actor_id, 1), suspended(actor_id, 2)
    red = site_event(site_id, 3, status="red")
    await deliver(stack, first, newer, red)
    before = await score_changes(stack)

    await deliver(stack, newer, first, red, site_event(site_id, 2, status="green"))

    assert await score_changes(stack) == before


async def test_a_lot_rises_when_an_incident_opens_on_its_origin_site_and_falls_when_it_closes(stack):
    site_id, lot_id, incident_id = uuid4(), uuid4(), uuid4()
    await deliver(stack, site_event(site_id, 1), lot_created(lot_id, sites=[site_id]))
    calm = (await score_changes(stack, lot_id))[-1]

    [opened] = await deliver(stack, incident(incident_id, 1, level=1, site_ids=[site_id]))
    risen = (await score_changes(stack, lot_id))[-1]
    await deliver(stack, incident(incident_id, 2, status="closed", site_ids=[site_id]))
    fallen = (await score_changes(stack, lot_id))[-1]

    assert risen["score"] > calm["score"] and risen["aggregate_version"] == calm["aggregate_version"] + 1
    assert factor(risen, "upstream_worst")["value"].startswith(f"site:{site_id}")
    assert factor(risen, "upstream_worst")["source_event_id"] == opened
    assert fallen["score"] == calm["score"]


async def test_a_lot_sees_risk_several_levels_up_its_lineage(stack):
    site_a, site_b = uuid4(), uuid4()
    ore_a, ore_b, concentrate, ingot, other = uuid4(), uuid4(), uuid4(), uuid4(), uuid4()
    await deliver(
        stack,
        site_event(site_a, 1),
        site_event(site_b, 1),
        lot_created(ore_a, sites=[site_a]),
        lot_created(ore_b, sites=[site_b]),
        lot_created(concentrate, inputs=[ore_a, ore_b]),
        lot_created(ingot, inputs=[concentrate]),
        lot_created(other, sites=[site_b]),
    )
    before = {lot: (await score_changes(stack, lot))[-1]["score"] for lot in (ingot, other)}

    await deliver(stack, site_event(site_a, 2, status="red"))

    assert (await score_changes(stack, ingot))[-1]["score"] > before[ingot]
    assert (await score_changes(stack, other))[-1]["score"] == before[other]
    ingot_last = (await score_changes(stack, ingot))[-1]
    assert factor(ingot_last, "upstream_worst")["contribution"] == round(W.lot.worst * W.site.status["red"], 2)
