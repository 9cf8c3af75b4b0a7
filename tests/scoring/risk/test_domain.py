"""Score rules without I/O: bands, caps, licence states, a lot's worst and weighted upstream."""

from __future__ import annotations

from datetime import date, timedelta

from services.scoring.risk import domain, weights

W = weights.load()
TODAY = date(2026, 12, 1)


def test_bands_start_at_their_thresholds():
    assert [domain.band_of(s, W) for s in (0, 24.99, 25, 50, 75, 100)] == [
        "low", "low", "medium", "high", "critical", "critical",
    ]  # fmt: skip


def test_incidents_of_every_level_together_stay_within_the_cap_and_the_score_within_100():
    facts = domain.SiteFacts(
        status=domain.Fact("red"), incidents=[domain.Incident(1), domain.Incident(1), domain.Incident(2)]
    )
    score = domain.score_site(facts, W)

    incident_points = sum(f.contribution for f in score.factors if f.factor.startswith("open_incidents"))
    assert incident_points == W.incidents.cap and score.score == 100 and score.band == "critical"


def test_the_best_licence_counts_and_an_announced_expiry_counts_as_expired():
    soon, later = TODAY + timedelta(days=10), TODAY + timedelta(days=400)
    days = W.actor.licence_expiring_days

    assert domain.licence_state([], TODAY, expiring_days=days)[0] == "none"
    assert domain.licence_state([domain.Licence(soon, None)], TODAY, expiring_days=days)[0] == "expiring"
    assert domain.licence_state([domain.Licence(later, "expired")], TODAY, expiring_days=days)[0] == "expired"
    both = [domain.Licence(TODAY - timedelta(days=1), None), domain.Licence(later, None)]
    assert domain.licence_state(both, TODAY, expiring_days=days)[0] == "valid"


def test_a_lot_takes_the_worst_and_the_mean_of_its_upstream():
    upstream = [domain.Upstream("site", "a", 70.0, "e1"), domain.Upstream("actor", "b", 10.0, "e2")]

    score = domain.score_lot(upstream, [], W)

    worst, weighted = score.factors
    assert (worst.factor, worst.contribution, worst.source_event_id) == ("upstream_worst", 49.0, "e1")
    assert (weighted.factor, weighted.contribution) == ("upstream_weighted", 12.0)
    assert score.score == 61.0 and score.band == "high"


def test_a_lot_with_nothing_known_upstream_scores_zero():
    assert domain.score_lot([], [], W).score == 0
