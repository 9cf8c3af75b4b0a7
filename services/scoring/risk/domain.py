"""Risk scores as rules: what is known of a subject in, an explainable score (points per factor) out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from services.scoring.risk.weights import Weights

ACTOR, SITE, LOT = "actor", "site", "lot"
SUBJECT_TYPES = (ACTOR, SITE, LOT)
CLOSED_INCIDENT = frozenset({"dismissed", "resolved", "closed"})


@dataclass(frozen=True)
class Fact:
    """One thing seen about a subject, and the event that told us."""

    value: str
    event_id: str | None = None


@dataclass(frozen=True)
class Licence:
    valid_to: date | None
    notice: str | None  # expiring | expired, when KYC announced it
    event_id: str | None = None


@dataclass(frozen=True)
class Incident:
    level: int
    event_id: str | None = None


@dataclass
class ActorFacts:
    kyc_status: Fact | None = None
    kyc_risk_level: Fact | None = None
    area_risk: Fact | None = None
    confirmed_hits: list[Fact] = field(default_factory=list)  # value: the hit id
    licences: list[Licence] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    assessment: Fact | None = None  # value: the outcome


@dataclass
class SiteFacts:
    status: Fact | None = None
    area_risk: Fact | None = None
    incidents: list[Incident] = field(default_factory=list)
    anomalies: list[Fact] = field(default_factory=list)  # value: the anomaly kind
    assessment: Fact | None = None


@dataclass(frozen=True)
class Upstream:
    """The current score of a subject upstream of a lot."""

    subject_type: str
    subject_id: str
    score: float
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class Factor:
    """One contribution to a score and the event that set it (ScoreFactor on the wire). A plain value object: a
    full recompute makes about a million of them, and a pydantic model each cost a quarter of its time."""

    factor: str
    value: str
    contribution: float
    source_event_id: str | None = None


@dataclass(frozen=True)
class Score:
    score: float
    band: str
    factors: tuple[Factor, ...]

    def differs_from(self, score: float | None, band: str | None) -> bool:
        return score is None or round(score, 2) != round(self.score, 2) or band != self.band


def _factor(*, factor: str, value: str, contribution: float, source_event_id: str | None = None) -> Factor:
    return Factor(factor, value, float(contribution), source_event_id)


def as_dict(factor: Factor) -> dict[str, str | float | None]:
    return {
        "factor": factor.factor,
        "value": factor.value,
        "contribution": factor.contribution,
        "source_event_id": factor.source_event_id,
    }


def band_of(score: float, weights: Weights) -> str:
    bands = weights.bands
    if score >= bands.critical:
        return "critical"
    if score >= bands.high:
        return "high"
    return "medium" if score >= bands.medium else "low"


def _score(factors: Iterable[Factor], weights: Weights) -> Score:
    kept = tuple(factors)
    total = round(min(100.0, max(0.0, sum(f.contribution for f in kept))), 2)
    return Score(total, band_of(total, weights), kept)


def _lookup(fact: Fact | None, name: str, points: dict[str, float]) -> list[Factor]:
    if fact is None:
        return []
    return [
        _factor(factor=name, value=fact.value, contribution=points.get(fact.value, 0.0), source_event_id=fact.event_id)
    ]


def _incident_factors(incidents: Sequence[Incident], weights: Weights) -> list[Factor]:
    """One factor per level with open incidents; all levels together stay within the cap."""
    rules, room, factors = weights.incidents, weights.incidents.cap, []
    for level in sorted({i.level for i in incidents}):
        of_level = [i for i in incidents if i.level == level]
        points = min(room, rules.points_by_level.get(level, 0.0) * len(of_level))
        room -= points
        newest = max((i.event_id or "" for i in of_level), default="") or None
        factors.append(
            _factor(
                factor=f"open_incidents_level_{level}",
                value=str(len(of_level)),
                contribution=points,
                source_event_id=newest,
            )
        )
    return factors


def _assessment_factor(fact: Fact | None, weights: Weights) -> list[Factor]:
    if fact is None:
        return []
    points = weights.assessment.outcomes.get(fact.value, weights.assessment.other)
    return [_factor(factor="latest_assessment", value=fact.value, contribution=points, source_event_id=fact.event_id)]


def licence_state(licences: Sequence[Licence], today: date, *, expiring_days: int) -> tuple[str, Licence | None]:
    """valid when one licence is in force and not near its end; else the best of expiring, expired, none."""
    best: tuple[int, str, Licence | None] = (3, "none", None)
    for licence in licences:
        if licence.notice == "expired" or (licence.valid_to is not None and licence.valid_to < today):
            state, rank = "expired", 2
        elif licence.notice == "expiring" or (
            licence.valid_to is not None and (licence.valid_to - today).days <= expiring_days
        ):
            state, rank = "expiring", 1
        else:
            state, rank = "valid", 0
        if rank < best[0]:
            best = (rank, state, licence)
    return best[1], best[2]


def score_actor(facts: ActorFacts, weights: Weights, *, today: date) -> Score:
    rules = weights.actor
    hits = facts.confirmed_hits
    state, licence = licence_state(facts.licences, today, expiring_days=rules.licence_expiring_days)
    factors = [
        *_lookup(facts.kyc_status, "kyc_status", rules.kyc_status),
        *_lookup(facts.kyc_risk_level, "kyc_risk_level", rules.kyc_risk_level),
        *_lookup(facts.area_risk, "country_region_risk", rules.area_risk),
        _factor(
            factor="licence_validity",
            value=state,
            contribution=rules.licence.get(state, 0.0),
            source_event_id=licence.event_id if licence else None,
        ),
    ]
    if hits:
        factors.append(
            _factor(
                factor="confirmed_hits",
                value=str(len(hits)),
                contribution=min(rules.confirmed_hits_cap, rules.confirmed_hit * len(hits)),
                source_event_id=max(h.event_id or "" for h in hits) or None,
            )
        )
    factors += _incident_factors(facts.incidents, weights) + _assessment_factor(facts.assessment, weights)
    return _score(factors, weights)


def score_site(facts: SiteFacts, weights: Weights) -> Score:
    rules = weights.site
    factors = [
        *_lookup(facts.status, "site_status", rules.status),
        *_lookup(facts.area_risk, "area_risk", rules.area_risk),
    ]
    factors += _incident_factors(facts.incidents, weights)
    if facts.anomalies:
        factors.append(
            _factor(
                factor="production_anomalies",
                value=str(len(facts.anomalies)),
                contribution=min(rules.anomalies_cap, rules.anomaly * len(facts.anomalies)),
                source_event_id=max(a.event_id or "" for a in facts.anomalies) or None,
            )
        )
    return _score(factors + _assessment_factor(facts.assessment, weights), weights)


def score_lot(upstream: Sequence[Upstream], incidents: Sequence[Incident], weights: Weights) -> Score:
    """The worst and the mean of everything upstream (origin sites, holders, input lots' too), weighted, plus the
    open incidents on the lot and its input lots themselves."""
    rules = weights.lot
    factors: list[Factor] = []
    if upstream:
        worst = max(upstream, key=lambda u: (u.score, u.subject_type, u.subject_id))
        mean = sum(u.score for u in upstream) / len(upstream)
        factors.append(
            _factor(
                factor="upstream_worst",
                value=f"{worst.subject_type}:{worst.subject_id}={worst.score:g}",
                contribution=round(rules.worst * worst.score, 2),
                source_event_id=worst.event_id,
            )
        )
        factors.append(
            _factor(
                factor="upstream_weighted",
                value=f"mean {mean:.2f} of {len(upstream)}",
                contribution=round(rules.mean * mean, 2),
            )
        )
    return _score(factors + _incident_factors(incidents, weights), weights)
