"""Incidents and their rules: taxonomy, lifecycle, escalation, mitigation actions and deadlines (plain Python)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from importlib import resources
from typing import Any, TypeVar
from uuid import UUID, uuid4

from libs.common.errors import Conflict, Invalid, NotFound
from libs.common.events import incidents as ev

E = TypeVar("E", bound=ev.IncidentEvent)
RESPONSES = ("disengage", "mitigate", "monitor")  # strongest first
LEVEL_RESPONSE = {1: "disengage", 2: "mitigate", 3: "monitor"}
SOURCES = ("staff", "monitor", "partner", "whistleblower", "automatic")
RESOLUTION_REASONS = ("unfounded", "duplicate", "out_of_scope", "insufficient_information", "handled_elsewhere")
ACTION_STATUSES = ("open", "in_progress", "done", "cancelled")
OPEN_ACTION = ("open", "in_progress")


class Status(StrEnum):
    REPORTED = "reported"
    TRIAGE = "triage"
    VERIFIED = "verified"
    DISMISSED = "dismissed"
    MITIGATION = "mitigation"
    RESOLVED = "resolved"
    CLOSED = "closed"


FINISHED = (Status.DISMISSED, Status.RESOLVED, Status.CLOSED)


@dataclass(frozen=True)
class Category:
    code: str
    group: str
    name: str
    level: int
    response: str

    def __post_init__(self) -> None:
        if self.level not in (1, 2, 3):
            raise Invalid(f"category {self.code}: level must be 1, 2 or 3", code="invalid_level")
        if self.response not in RESPONSES:
            raise Invalid(f"category {self.code}: response must be one of {RESPONSES}", code="invalid_response")


@dataclass(frozen=True)
class Taxonomy:
    groups: dict[str, str]  # code -> name
    categories: dict[str, Category]

    def category(self, code: str) -> Category:
        found = self.categories.get(code)
        if found is None:
            raise Invalid(f"unknown category {code!r}", code="unknown_category", field="category")
        return found

    def extended(self, extra: list[Category]) -> Taxonomy:
        return Taxonomy(dict(self.groups), {**self.categories, **{c.code: c for c in extra}})


def parse_taxonomy(data: dict[str, Any]) -> Taxonomy:
    groups: dict[str, str] = {}
    categories: dict[str, Category] = {}
    for group in data["groups"]:
        groups[str(group["code"])] = str(group["name"])
        for item in group["categories"]:
            category = Category(
                str(item["code"]), str(group["code"]), str(item["name"]), item["level"], item["response"]
            )
            if category.code in categories:
                raise ValueError(f"duplicate category {category.code}")
            categories[category.code] = category
    return Taxonomy(groups, categories)


def shipped_taxonomy() -> Taxonomy:
    """The taxonomy shipped in data/taxonomy.json, validated on load."""
    text = resources.files("services.incidents").joinpath("data/taxonomy.json").read_text(encoding="utf-8")
    return parse_taxonomy(json.loads(text))


def stronger(a: str, b: str) -> str:
    return a if RESPONSES.index(a) <= RESPONSES.index(b) else b


@dataclass
class Action:
    id: UUID
    title: str
    owner: str
    due_date: date
    status: str = "open"
    notes: list[dict[str, str]] = field(default_factory=list)  # {"at", "by", "text"}


@dataclass
class Change:
    """One timeline entry: who did what and when."""

    kind: str
    by: str
    at: datetime
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Incident:
    id: UUID
    org_id: str
    reference: str
    category: Category
    level: int
    required_response: str
    title: str
    summary: str
    source: str
    reported_at: datetime
    updated_at: datetime
    verification_due_date: date
    status: Status = Status.REPORTED
    version: int = 0
    cause: str | None = None
    country: str | None = None
    region: str | None = None
    mineral: str | None = None
    occurred_on: date | None = None
    place: str | None = None
    actor_ids: list[UUID] = field(default_factory=list)
    site_ids: list[UUID] = field(default_factory=list)
    lot_ids: list[UUID] = field(default_factory=list)
    resolution_reason: str | None = None
    outcome: str | None = None
    actions: list[Action] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)  # new timeline entries, saved by the repository

    @classmethod
    def report(
        cls,
        *,
        org_id: str,
        reference: str,
        category: Category,
        by: str,
        now: datetime,
        due_days: dict[int, int],
        id: UUID | None = None,
        **facts: Any,
    ) -> tuple[Incident, ev.IncidentReported]:
        incident = cls(
            id=id or uuid4(),
            org_id=org_id,
            reference=reference,
            category=category,
            level=category.level,
            required_response=category.response,
            reported_at=now,
            updated_at=now,
            verification_due_date=now.date() + timedelta(days=due_days[category.level]),
            **facts,
        )
        return incident, incident._event(ev.IncidentReported, by=by, now=now, kind="reported")

    def state(self) -> ev.IncidentState:
        return ev.IncidentState(
            incident_id=self.id,
            org_id=self.org_id,
            reference=self.reference,
            category=self.category.code,
            category_group=self.category.group,
            level=self.level,
            required_response=self.required_response,
            status=self.status.value,
            title=self.title,
            summary=self.summary,
            source=self.source,
            cause=self.cause,
            country=self.country,
            region=self.region,
            mineral=self.mineral,
            occurred_on=self.occurred_on,
            place=self.place,
            actor_ids=self.actor_ids,
            site_ids=self.site_ids,
            lot_ids=self.lot_ids,
            resolution_reason=self.resolution_reason,
            outcome=self.outcome,
            verification_due_date=self.verification_due_date,
            reported_at=self.reported_at,
            updated_at=self.updated_at,
        )

    def _event(
        self,
        kind_of: type[E],
        *,
        by: str,
        now: datetime,
        kind: str,
        detail: dict[str, Any] | None = None,
        **extra: Any,
    ) -> E:
        self.version += 1
        self.updated_at = now
        self.changes.append(Change(kind, by, now, detail or {}))
        return kind_of(
            org_id=self.org_id, incident_id=self.id, aggregate_version=self.version, incident=self.state(), **extra
        )

    def _require(self, action: str, *allowed: Status) -> None:
        if self.status not in allowed:
            raise Conflict(
                f"cannot {action} an incident that is {self.status.value}",
                code=f"cannot_{action}",
                incident_status=self.status.value,
            )

    # --- lifecycle -----------------------------------------------------------------------------------------------

    def update_facts(self, *, by: str, now: datetime, **facts: Any) -> ev.IncidentUpdated | None:
        self._require("update", *(s for s in Status if s is not Status.CLOSED))
        changed = sorted(k for k, v in facts.items() if v is not None and getattr(self, k) != v)
        for name in changed:
            setattr(self, name, facts[name])
        if not changed:
            return None
        return self._event(
            ev.IncidentUpdated, by=by, now=now, kind="updated", detail={"fields": changed}, changed_fields=changed
        )

    def cause_fired_again(self, *, now: datetime, detail: str, links: dict[str, list[UUID]]) -> ev.IncidentUpdated:
        changed = ["cause_repeated"]
        for name, ids in links.items():
            merged = list(dict.fromkeys([*getattr(self, name), *ids]))
            if merged != getattr(self, name):
                setattr(self, name, merged)
                changed.append(name)
        return self._event(
            ev.IncidentUpdated,
            by="system",
            now=now,
            kind="cause_repeated",
            detail={"detail": detail},
            changed_fields=changed,
        )

    def triage(self, *, by: str, now: datetime) -> ev.IncidentTriaged:
        self._require("triage", Status.REPORTED)
        self.status = Status.TRIAGE
        return self._event(ev.IncidentTriaged, by=by, now=now, kind="triaged")

    def verify(self, *, by: str, now: datetime) -> ev.IncidentVerified:
        self._require("verify", Status.TRIAGE)
        self.status = Status.VERIFIED
        return self._event(ev.IncidentVerified, by=by, now=now, kind="verified")

    def dismiss(self, *, reason: str, by: str, now: datetime) -> ev.IncidentDismissed:
        if reason not in RESOLUTION_REASONS:
            raise Invalid(f"resolution reason must be one of {RESOLUTION_REASONS}", code="unknown_resolution_reason")
        self._require("dismiss", Status.REPORTED, Status.TRIAGE)
        self.status, self.resolution_reason = Status.DISMISSED, reason
        return self._event(ev.IncidentDismissed, by=by, now=now, kind="dismissed", detail={"reason": reason})

    def plan_mitigation(self, actions: list[Action], *, by: str, now: datetime) -> ev.MitigationPlanned:
        self._require("plan_mitigation", Status.VERIFIED, Status.MITIGATION)
        if not actions:
            raise Invalid("a mitigation plan needs at least one action", code="empty_plan")
        self.status = Status.MITIGATION
        self.actions.extend(actions)
        return self._event(
            ev.MitigationPlanned,
            by=by,
            now=now,
            kind="mitigation_planned",
            detail={"actions": [str(a.id) for a in actions]},
            action_count=len(self.actions),
        )

    def update_action(
        self, action_id: UUID, *, status: str | None, note: str | None, by: str, now: datetime
    ) -> ev.MitigationActionUpdated:
        self._require("update_action", Status.MITIGATION)
        action = next((a for a in self.actions if a.id == action_id), None)
        if action is None:
            # an id in the path: 404, as any other the caller's organisation does not have (docs/architecture.md)
            raise NotFound(f"no action {action_id} in this incident's plan", code="action_not_found")
        if status is not None:
            if status not in ACTION_STATUSES:
                raise Invalid(f"action status must be one of {ACTION_STATUSES}", code="invalid_action_status")
            action.status = status
        if note:
            action.notes.append({"at": now.isoformat(), "by": by, "text": note})
        return self._event(
            ev.MitigationActionUpdated,
            by=by,
            now=now,
            kind="action_updated",
            detail={"action_id": str(action_id), "status": action.status, "note": note},
            action_id=action_id,
            action_status=action.status,
        )

    def resolve(self, *, by: str, now: datetime) -> ev.IncidentResolved:
        self._require("resolve", Status.VERIFIED, Status.MITIGATION)
        if any(a.status in OPEN_ACTION for a in self.actions):
            raise Conflict("every mitigation action must be done or cancelled first", code="actions_open")
        self.status = Status.RESOLVED
        return self._event(ev.IncidentResolved, by=by, now=now, kind="resolved")

    def close(self, *, outcome: str, by: str, now: datetime) -> ev.IncidentClosed:
        self._require("close", Status.RESOLVED, Status.DISMISSED)
        self.status, self.outcome = Status.CLOSED, outcome
        return self._event(ev.IncidentClosed, by=by, now=now, kind="closed", detail={"outcome": outcome})

    def reopen(self, *, reason: str, by: str, now: datetime) -> ev.IncidentReopened:
        self._require("reopen", *FINISHED)
        self.status, self.outcome, self.resolution_reason = Status.TRIAGE, None, None
        return self._event(
            ev.IncidentReopened, by=by, now=now, kind="reopened", detail={"reason": reason}, reason=reason
        )

    def escalate(self, *, level: int, reason: str, by: str, now: datetime) -> ev.IncidentEscalated:
        self._require("escalate", *(s for s in Status if s is not Status.CLOSED))
        if level not in (1, 2, 3) or level >= self.level:
            raise Invalid(f"escalation must raise the level above {self.level} (1 is highest)", code="level_not_raised")
        previous, self.level = self.level, level
        self.required_response = stronger(self.required_response, LEVEL_RESPONSE[level])
        return self._event(
            ev.IncidentEscalated,
            by=by,
            now=now,
            kind="escalated",
            detail={"from": previous, "to": level, "reason": reason},
            previous_level=previous,
            reason=reason,
        )

    def comment(self, text: str, *, by: str, now: datetime) -> None:
        """A comment is timeline only: no event (it may hold what only the incident team should read)."""
        self.changes.append(Change("comment", by, now, {"text": text}))

    def overdue_notice(self, overdue: Overdue, *, now: datetime) -> ev.IncidentOverdue:
        return self._event(
            ev.IncidentOverdue,
            by="system",
            now=now,
            kind="overdue",
            detail={"overdue": overdue.kind, "due_date": overdue.due_date.isoformat()},
            overdue=overdue.kind,
            action_id=overdue.action_id,
            due_date=overdue.due_date,
        )

    def copy(self) -> Incident:
        return replace(self, changes=[])


@dataclass(frozen=True)
class Overdue:
    kind: str  # verification | action | max_open
    due_date: date
    action_id: UUID | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.action_id or ''}:{self.due_date.isoformat()}"


def overdue(incident: Incident, *, now: datetime, max_open: timedelta) -> list[Overdue]:
    """The deadlines `incident` has missed at `now`."""
    today = now.date()
    found: list[Overdue] = []
    if incident.status in (Status.REPORTED, Status.TRIAGE) and today > incident.verification_due_date:
        found.append(Overdue("verification", incident.verification_due_date))
    if incident.status is Status.MITIGATION:
        found += [
            Overdue("action", a.due_date, a.id)
            for a in incident.actions
            if a.status in OPEN_ACTION and today > a.due_date
        ]
    if incident.status not in FINISHED and now - incident.reported_at > max_open:
        found.append(Overdue("max_open", (incident.reported_at + max_open).date()))
    return found
