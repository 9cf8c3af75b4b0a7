"""What a set of answers adds up to under a framework: % per group of each dimension, the outcome, what is missing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.scoring.domain.frameworks import Condition, Framework, Rule


@dataclass(frozen=True)
class Shortfall:
    """A requirement answered short of fully met, and the points of its group it would add if it were."""

    requirement_id: str
    text: str
    answer: str | None
    gain: float


@dataclass(frozen=True)
class Threshold:
    """A % a rule asks of a group, and the fewest requirements that would reach it (largest gain first)."""

    outcome: str
    dimension: str
    group: str
    target: float
    percent: float | None
    reached: bool
    to_reach: list[Shortfall]


@dataclass(frozen=True)
class Result:
    overall: float | None
    percent: dict[str, dict[str, float | None]]  # dimension -> group -> % (None: nothing applicable answered)
    outcome: str
    missing: list[Shortfall]
    thresholds: list[Threshold]
    gap_due: datetime | None = None
    gap: Threshold | None = None
    unanswered: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        data = asdict(self)
        data["gap_due"] = self.gap_due.isoformat() if self.gap_due else None
        return data


def evaluate(framework: Framework, answers: dict[str, str], *, at: datetime) -> Result:
    percent = {name: _percents(framework, answers, name) for name in framework.dimensions}
    outcome, rule = _outcome(framework, answers, percent)
    thresholds = [t for r in framework.outcomes.rules for t in _thresholds(framework, answers, percent, r)]
    gap = _gap(framework, answers, percent, rule)
    return Result(
        overall=_percent(framework, answers, [r.id for r in framework.requirements]),
        percent=percent,
        outcome=outcome,
        missing=_short(framework, answers, [r.id for r in framework.requirements]),
        thresholds=thresholds,
        gap=gap,
        gap_due=at + timedelta(days=rule.gap.within_days) if rule and rule.gap and gap and not gap.reached else None,
        unanswered=[r.id for r in framework.requirements if r.id not in answers],
    )


def members(framework: Framework, dimension: str, group: str) -> list[str]:
    return [r.id for r in framework.requirements if r.counts_toward.get(dimension) == group]


def _percents(framework: Framework, answers: dict[str, str], dimension: str) -> dict[str, float | None]:
    groups = framework.dimensions[dimension].groups
    return {g.id: _percent(framework, answers, members(framework, dimension, g.id)) for g in groups}


def _percent(framework: Framework, answers: dict[str, str], ids: list[str]) -> float | None:
    total = got = 0.0
    for requirement_id in ids:
        score = _score(framework, answers, requirement_id)
        if score is not None:
            weight = framework._by_id()[requirement_id].weight
            total, got = total + weight, got + weight * score
    return round(100 * got / total, 2) if total else None


def _score(framework: Framework, answers: dict[str, str], requirement_id: str) -> float | None:
    answer = answers.get(requirement_id)
    return None if answer is None else framework.answers.get(answer)


def _short(framework: Framework, answers: dict[str, str], ids: list[str]) -> list[Shortfall]:
    """Answered, applicable and short of 1, with what each would add to the %, largest first."""
    weights = {i: framework._by_id()[i].weight for i in ids if _score(framework, answers, i) is not None}
    total = sum(weights.values())
    found = []
    for requirement_id, weight in weights.items():
        score = _score(framework, answers, requirement_id)
        if score is not None and score < 1:
            gain = round(100 * weight * (1 - score) / total, 2)
            text = framework._by_id()[requirement_id].text
            found.append(Shortfall(requirement_id, text, answers.get(requirement_id), gain))
    return sorted(found, key=lambda s: (-s.gain, s.requirement_id))


def _holds(
    framework: Framework, answers: dict[str, str], percent: dict[str, dict[str, float | None]], c: Condition
) -> bool:
    value = percent[c.dimension][c.group]
    if c.any_gap is not None:
        return bool(_short(framework, answers, members(framework, c.dimension, c.group))) == c.any_gap
    if c.assessed is not None:
        return (value is not None) == c.assessed
    if value is None:
        return False
    return value >= c.at_least if c.at_least is not None else value < (c.below or 0)


def _outcome(
    framework: Framework, answers: dict[str, str], percent: dict[str, dict[str, float | None]]
) -> tuple[str, Rule | None]:
    for rule in framework.outcomes.rules:
        if all(_holds(framework, answers, percent, c) for c in rule.all):
            return rule.outcome, rule
    return framework.outcomes.default, None


def _thresholds(
    framework: Framework, answers: dict[str, str], percent: dict[str, dict[str, float | None]], rule: Rule
) -> list[Threshold]:
    return [
        _threshold(framework, answers, percent, rule.outcome, c.dimension, c.group, c.at_least)
        for c in rule.all
        if c.at_least is not None
    ]


def _threshold(
    framework: Framework,
    answers: dict[str, str],
    percent: dict[str, dict[str, float | None]],
    outcome: str,
    dimension: str,
    group: str,
    target: float,
) -> Threshold:
    value = percent[dimension][group]
    needed, to_reach = target - (value or 0), []
    for shortfall in _short(framework, answers, members(framework, dimension, group)):
        if needed <= 1e-9:
            break
        to_reach.append(shortfall)
        needed -= shortfall.gain
    reached = value is not None and value >= target
    return Threshold(outcome, dimension, group, target, value, reached, [] if reached else to_reach)


def _gap(
    framework: Framework, answers: dict[str, str], percent: dict[str, dict[str, float | None]], rule: Rule | None
) -> Threshold | None:
    if rule is None or rule.gap is None:
        return None
    g = rule.gap
    return _threshold(framework, answers, percent, rule.outcome, g.dimension, g.group, g.target)


@dataclass(frozen=True)
class Change:
    requirement_id: str
    before: str | None
    after: str | None


def changed(before: dict[str, str], after: dict[str, str]) -> list[Change]:
    ids = sorted(set(before) | set(after))
    return [Change(i, before.get(i), after.get(i)) for i in ids if before.get(i) != after.get(i)]


def deltas(
    before: dict[str, dict[str, float | None]], after: dict[str, dict[str, float | None]]
) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    for dimension, groups in after.items():
        out[dimension] = {}
        for group, value in groups.items():
            old = before.get(dimension, {}).get(group)
            out[dimension][group] = None if value is None or old is None else round(value - old, 2)
    return out
