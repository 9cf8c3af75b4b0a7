"""A framework as data: its schema, checked on load with the exact place of each problem (file, path, line)."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from libs.common.errors import Invalid

ID = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
MAX_SOURCE_BYTES = 1_000_000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Group(Strict):
    id: str = Field(pattern=ID)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)


class Dimension(Strict):
    """A way of grouping requirements (CRAFT modules, Fairmined areas, categories, OECD sections)."""

    title: str = Field(min_length=1, max_length=200)
    groups: list[Group] = Field(min_length=1)


class Requirement(Strict):
    id: str = Field(pattern=ID)
    text: str = Field(min_length=1, max_length=2000)
    weight: float = Field(1.0, gt=0, le=1000)
    # dimension -> group: one requirement can count toward a module, an area and a category at once
    counts_toward: dict[str, str] = Field(min_length=1)


class Condition(Strict):
    """What a rule tests of one group: any requirement short of fully met, or its % against a threshold."""

    dimension: str
    group: str
    any_gap: bool | None = None
    at_least: float | None = Field(None, ge=0, le=100)
    below: float | None = Field(None, ge=0, le=100)
    assessed: bool | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        tests = [t for t in (self.any_gap, self.at_least, self.below, self.assessed) if t is not None]
        if len(tests) != 1:
            raise ValueError("a condition has exactly one of any_gap, at_least, below, assessed")
        return self


class Gap(Strict):
    """What an outcome still asks for: every `dimension` group at `target` % within `within_days`."""

    dimension: str
    group: str
    target: float = Field(ge=0, le=100)
    within_days: int = Field(ge=1, le=3650)


class Rule(Strict):
    outcome: str = Field(pattern=ID)
    title: str = Field("", max_length=200)
    all: list[Condition] = Field(min_length=1)  # noqa: A003 (the file's word)
    gap: Gap | None = None


class Outcomes(Strict):
    """First matching rule wins; none matching gives `default`."""

    rules: list[Rule] = []
    default: str = Field(pattern=ID)
    default_title: str = Field("", max_length=200)


class Framework(Strict):
    code: str = Field(pattern=ID)
    version: str = Field(pattern=ID)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=4000)
    # answer -> score in [0, 1]; null: not applicable, left out of every %
    answers: dict[str, float | None] = Field(min_length=2)
    dimensions: dict[str, Dimension] = Field(min_length=1)
    requirements: list[Requirement] = Field(min_length=1)
    outcomes: Outcomes

    @field_validator("answers")
    @classmethod
    def _scores(cls, answers: dict[str, float | None]) -> dict[str, float | None]:
        for name, score in answers.items():
            if not re.match(ID, name):
                raise ValueError(f"answer {name!r} is not a plain identifier")
            if score is not None and not 0 <= score <= 1:
                raise ValueError(f"answer {name!r} scores {score}; scores are between 0 and 1")
        if 1.0 not in answers.values():
            raise ValueError("one answer must score 1 (fully met)")
        return answers

    @property
    def key(self) -> str:
        return f"{self.code}@{self.version}"

    def requirement(self, requirement_id: str) -> Requirement | None:
        return self._by_id().get(requirement_id)

    def _by_id(self) -> dict[str, Requirement]:
        return {r.id: r for r in self.requirements}

    def group_title(self, dimension: str, group: str) -> str:
        return next((g.title for g in self.dimensions[dimension].groups if g.id == group), group)

    def outcome_title(self, outcome: str) -> str:
        if outcome == self.outcomes.default:
            return self.outcomes.default_title or outcome
        return next((r.title or outcome for r in self.outcomes.rules if r.outcome == outcome), outcome)


class Problem(BaseModel):
    """One place a framework file is wrong."""

    file: str
    path: str
    line: int | None
    message: str


class FrameworkInvalid(Invalid):
    def __init__(self, problems: list[Problem], *, code: str = "invalid_framework") -> None:
        first = problems[0]
        where = f"{first.file}:{first.line}" if first.line else first.file
        super().__init__(
            f"{where} at {first.path or '(top)'}: {first.message}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            code=code,
            problems=[p.model_dump() for p in problems],
        )


def parse(source: str, *, file: str) -> Framework:
    """The framework `source` (YAML or JSON) describes, or FrameworkInvalid naming each problem's place."""
    if len(source.encode()) > MAX_SOURCE_BYTES:
        raise FrameworkInvalid([Problem(file=file, path="", line=None, message="the file is over 1 MB")])
    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise FrameworkInvalid([Problem(file=file, path="", line=line, message=f"not YAML: {exc}")]) from exc
    if not isinstance(data, dict):
        raise FrameworkInvalid([Problem(file=file, path="", line=1, message="a framework is a mapping")])
    try:
        framework = Framework.model_validate(_plain(data))
    except ValidationError as exc:
        problems = [
            Problem(file=file, path=_path(e["loc"]), line=_line(node, e["loc"]), message=e["msg"]) for e in exc.errors()
        ]
        raise FrameworkInvalid(problems) from exc
    dangling = list(_dangling_references(framework))
    if dangling:
        problems = [Problem(file=file, path=_path(loc), line=_line(node, loc), message=msg) for loc, msg in dangling]
        code = "rule_refers_to_nothing" if any(loc[0] == "outcomes" for loc, _ in dangling) else "invalid_framework"
        raise FrameworkInvalid(problems, code=code)
    return framework


def _plain(data: Any) -> Any:
    """YAML's own types (dates, numbers as keys) made JSON's, so the schema sees what a JSON file would say."""
    return json.loads(json.dumps(data, default=str))


Loc = tuple[int | str, ...]


def _dangling_references(framework: Framework) -> list[tuple[Loc, str]]:
    found: list[tuple[Loc, str]] = []
    seen: set[str] = set()
    groups = {name: {g.id for g in d.groups} for name, d in framework.dimensions.items()}
    for i, requirement in enumerate(framework.requirements):
        if requirement.id in seen:
            found.append((("requirements", i, "id"), f"requirement {requirement.id!r} is listed twice"))
        seen.add(requirement.id)
        for dimension, group in requirement.counts_toward.items():
            found += _group_missing(groups, dimension, group, ("requirements", i, "counts_toward", dimension))
    for i, rule in enumerate(framework.outcomes.rules):
        for j, condition in enumerate(rule.all):
            found += _group_missing(groups, condition.dimension, condition.group, ("outcomes", "rules", i, "all", j))
        if rule.gap is not None:
            found += _group_missing(groups, rule.gap.dimension, rule.gap.group, ("outcomes", "rules", i, "gap"))
    return found


def _group_missing(groups: dict[str, set[str]], dimension: str, group: str, loc: Loc) -> list[tuple[Loc, str]]:
    if dimension not in groups:
        return [(loc, f"refers to dimension {dimension!r}, which the framework does not define")]
    if group not in groups[dimension]:
        return [(loc, f"refers to {dimension} {group!r}, which dimension {dimension!r} does not define")]
    return []


def _path(loc: Loc) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(loc))


def _line(node: yaml.Node | None, loc: Loc) -> int | None:
    """The 1-based line of the deepest node `loc` reaches in the composed YAML."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def _child(node: yaml.Node, part: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if str(key.value) == str(part):
                found: yaml.Node = value
                return found
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        child: yaml.Node = node.value[part]
        return child
    return None


Kind = Literal["file", "upload"]
