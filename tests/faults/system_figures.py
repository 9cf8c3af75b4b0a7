"""The end-state check of the system fault tests: every consumer's inbox and read models against their sources
(the other services' databases and outboxes), and duplicates seen by audit triggers, as one line of figures.

Audit (schema `fault_audit` in each consuming service's database): one trigger logs every inbox row inserted (a
first delivery) with its transaction id, another every committed change to that service's read-model tables. The
inbox's primary key makes a second inbox row for an event impossible, so an event applied twice shows up as a
read-model change in a transaction that took no new event. Automatic incidents are counted against their causes:
one incident per cause, one timeline entry (reported or cause_repeated) per firing."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from services.scoring.risk import handlers as scoring_handlers
from services.traceability import handlers as traceability_handlers
from tests.support.processes import Databases
from tests.support.system import SERVICES, System, handled_types

SITE_EVENTS = frozenset(c.event_type() for c in traceability_handlers.SITE_EVENTS)
INCIDENT_EVENTS = frozenset(c.event_type() for c in traceability_handlers.INCIDENT_EVENTS)


@dataclass(frozen=True)
class ReadModel:
    """A copy in `consumer`'s table, expected to hold the state of the newest (by aggregate version) of `events`
    per key: `fields` maps a column to its path in the event payload."""

    consumer: str
    table: str
    key: str
    events: frozenset[str]
    fields: dict[str, tuple[str, ...]]
    versioned: bool = True  # the table's `version` is the newest applied event's aggregate version

    @property
    def name(self) -> str:
        return f"{self.consumer}.{self.table}"


READ_MODELS = (
    ReadModel(
        "traceability",
        "known_actor",
        "actor_id",
        frozenset(c.event_type() for c in traceability_handlers.ACTOR_EVENTS),
        {"kyc_status": ("actor", "kyc_status"), "legal_name": ("actor", "legal_name")},
    ),
    ReadModel("traceability", "known_site", "site_id", SITE_EVENTS, {"status": ("site", "status")}),
    ReadModel(
        "traceability",
        "known_incident",
        "incident_id",
        INCIDENT_EVENTS,
        {"status": ("incident", "status"), "level": ("incident", "level")},
    ),
    ReadModel("traceability", "known_score", "subject_id", frozenset({"ScoreChanged.v1"}), {"score": ("score",)}),
    ReadModel(
        "incidents",
        "known_site",
        "site_id",
        SITE_EVENTS,
        {"status": ("site", "status"), "operator_actor_id": ("site", "operator_actor_id")},
    ),
    ReadModel(
        "scoring",
        "risk_actor",
        "actor_id",
        frozenset(c.event_type() for c in scoring_handlers.ACTOR_EVENTS),
        {"kyc_status": ("actor", "kyc_status")},
        versioned=False,  # also moved by other actor events (licences, hits): the status is what must match
    ),
    ReadModel("scoring", "risk_site", "site_id", SITE_EVENTS, {"status": ("site", "status")}),
    ReadModel(
        "scoring",
        "risk_incident",
        "incident_id",
        INCIDENT_EVENTS,
        {"status": ("incident", "status"), "level": ("incident", "level")},
    ),
)
# Tables only the consumer writes (never an API request or a job): a change there without a new event is a replay.
AUDITED = {
    "traceability": ("known_actor", "known_site", "known_incident", "known_score"),
    "incidents": ("known_site",),
    "scoring": ("risk_actor", "risk_site", "risk_incident", "risk_hit", "risk_licence", "risk_anomaly"),
}
# The source of truth in the producing service's own tables, for the status the events announced.
SOURCE_TABLES = {
    "known_actor": ("kyc", "SELECT id::text AS key, kyc_status AS status FROM actor"),
    "known_site": ("kyc", "SELECT id::text AS key, status FROM mine_site"),
    "known_incident": ("incidents", "SELECT id::text AS key, status FROM incident"),
}

AUDIT_SQL = """
CREATE SCHEMA fault_audit;
CREATE TABLE fault_audit.delivery (seq bigserial PRIMARY KEY, consumer text NOT NULL, event_id text NOT NULL,
                                   tx bigint NOT NULL);
CREATE TABLE fault_audit.effect (seq bigserial PRIMARY KEY, tx bigint NOT NULL, tbl text NOT NULL);
CREATE FUNCTION fault_audit.log_delivery() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fault_audit.delivery (consumer, event_id, tx) VALUES (NEW.consumer, NEW.event_id, txid_current());
    RETURN NULL;
END $$;
CREATE FUNCTION fault_audit.log_effect() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fault_audit.effect (tx, tbl) VALUES (txid_current(), TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE TRIGGER fault_audit_delivery AFTER INSERT ON processed_event
    FOR EACH ROW EXECUTE FUNCTION fault_audit.log_delivery();
"""


async def install_audit(databases: Databases) -> None:
    for service, tables in AUDITED.items():
        conn = await databases.connect(service)
        try:
            await conn.execute(AUDIT_SQL)
            for table in tables:
                await conn.execute(
                    f"CREATE TRIGGER fault_audit_effect AFTER INSERT OR UPDATE OR DELETE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION fault_audit.log_effect()"
                )
        finally:
            await conn.close()


@dataclass
class Writes:
    """What the test asked of the APIs: acknowledged (2xx) by kind, unanswered (or 5xx), refused by code."""

    acknowledged: Counter = field(default_factory=Counter)
    unacknowledged: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)


@dataclass
class SystemFigures:
    expected: dict[str, int]  # per consumer: source events it handles
    lost: dict[str, list[str]]  # per consumer: source events missing from its inbox
    differing: dict[str, list[tuple[str, Any, Any]]]  # per read model: key, expected, found
    source_mismatch: list[tuple[str, str, Any, Any]]  # table, key, the newest event's status, the source row's
    duplicated: dict[str, int]  # per consumer: read-model changes in transactions without a new event
    incident_causes: list[str]  # causes with not exactly one incident or not one timeline entry per firing
    pending: dict[str, int]  # per service: outbox rows not yet handed to the broker
    dead_lettered: dict[str, int]
    unrecorded: dict[str, int]  # acknowledged writes without their effect in the source database
    automatic_incidents: int = 0

    @property
    def converged(self) -> bool:
        return not any(self.lost.values()) and not any(self.differing.values()) and not any(self.pending.values())

    @property
    def kept(self) -> bool:
        return (
            self.converged
            and not self.source_mismatch
            and not any(self.duplicated.values())
            and not self.incident_causes
            and not any(self.dead_lettered.values())
            and not any(self.unrecorded.values())
        )

    def line(self, seed: int | str, writes: Writes) -> str:
        def per(d: dict[str, Any]) -> str:
            return ",".join(f"{k}:{len(v) if isinstance(v, list) else v}" for k, v in sorted(d.items())) or "-"

        return (
            f"SYSTEM FAULT FIGURES seed={seed} acknowledged={sum(writes.acknowledged.values())} "
            f"unacknowledged={sum(writes.unacknowledged.values())} refused={sum(writes.refused.values())} "
            f"expected={per(self.expected)} lost={per(self.lost)} differing={per(self.differing)} "
            f"source_mismatch={len(self.source_mismatch)} duplicated={per(self.duplicated)} "
            f"incident_causes_wrong={len(self.incident_causes)} automatic_incidents={self.automatic_incidents} "
            f"pending={per(self.pending)} dead_lettered={per(self.dead_lettered)} unrecorded={per(self.unrecorded)}"
        )

    def details(self, limit: int = 5) -> str:
        lines = []
        for name, rows in self.differing.items():
            lines += [f"{name} {k}: expected={e} found={f}" for k, e, f in rows[:limit]]
        for consumer, ids in self.lost.items():
            if ids:
                lines.append(f"{consumer}: {len(ids)} events missing from the inbox, e.g. {ids[:3]}")
        lines += [f"source {t} {k}: newest event={e} row={r}" for t, k, e, r in self.source_mismatch[:limit]]
        lines += self.incident_causes[:limit]
        return "\n".join(lines)


async def _fetch(databases: Databases, service: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await databases.connect(service)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


def _path(payload: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = payload
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _norm(value: Any) -> Any:
    return None if value is None else str(value) if not isinstance(value, (int, float)) else value


async def measure(system: System, writes: Writes, *, kyc_writes: Counter | None = None) -> SystemFigures:
    databases = system.databases
    outboxes: dict[str, list[asyncpg.Record]] = {}
    for service in SERVICES:
        outboxes[service] = await _fetch(
            databases,
            service,
            "SELECT id, event_id, key, event_type, payload, published_at IS NULL AS pending FROM outbox_message "
            "ORDER BY id",
        )
    events = [(service, r) for service in SERVICES for r in outboxes[service]]
    payloads = {r["event_id"]: json.loads(r["payload"]) for _, r in events}
    consumers = [s for s in SERVICES if handled_types(s)]
    expected, lost, duplicated, dead = {}, {}, {}, {}
    for consumer in consumers:
        types = handled_types(consumer)
        source = [r["event_id"] for _, r in events if r["event_type"] in types]
        inbox = {
            r["event_id"]
            for r in await _fetch(
                databases, consumer, "SELECT event_id FROM processed_event WHERE consumer = $1", consumer
            )
        }
        expected[consumer] = len(source)
        lost[consumer] = [e for e in source if e not in inbox]
        dead[consumer] = len(await _fetch(databases, consumer, "SELECT 1 FROM dead_letter"))
        if consumer in AUDITED:
            deliveries = {r["tx"] for r in await _fetch(databases, consumer, "SELECT tx FROM fault_audit.delivery")}
            effects = {r["tx"] for r in await _fetch(databases, consumer, "SELECT tx FROM fault_audit.effect")}
            duplicated[consumer] = len(effects - deliveries)

    differing: dict[str, list[tuple[str, Any, Any]]] = {}
    newest_status: dict[str, dict[str, Any]] = defaultdict(dict)
    for model in READ_MODELS:
        newest: dict[str, tuple[int, int, dict[str, Any]]] = {}
        for _, r in events:
            if r["event_type"] not in model.events:
                continue
            payload = payloads[r["event_id"]]
            key = str(payload.get(model.key) or r["key"])
            rank = (int(payload.get("aggregate_version") or 0), int(r["id"]))
            if key not in newest or rank > newest[key][:2]:
                newest[key] = (*rank, payload)
        want = {
            key: (
                tuple(_norm(_path(p, path)) for path in model.fields.values()),
                version if model.versioned else None,
            )
            for key, (version, _, p) in newest.items()
        }
        columns = ", ".join(model.fields)
        rows = await _fetch(
            databases, model.consumer, f"SELECT {model.key}::text AS key, {columns}, version FROM {model.table}"
        )
        found = {
            r["key"]: (tuple(_norm(r[c]) for c in model.fields), r["version"] if model.versioned else None)
            for r in rows
        }
        differing[model.name] = [
            (k, want.get(k), found.get(k)) for k in sorted(set(want) | set(found)) if want.get(k) != found.get(k)
        ]
        if model.consumer == "traceability" and model.table in SOURCE_TABLES:
            newest_status[model.table] = {k: v[0][0] for k, v in want.items()}

    source_mismatch = []
    for table, (service, query) in SOURCE_TABLES.items():
        for r in await _fetch(databases, service, query):
            announced = newest_status[table].get(r["key"])
            if announced != r["status"]:
                source_mismatch.append((table, r["key"], announced, r["status"]))
    scores = {
        r["key"]: (r["score"], r["band"], r["version"])
        for r in await _fetch(
            databases, "scoring", "SELECT subject_id::text AS key, score, band, version FROM risk_score"
        )
    }
    copies = {
        r["key"]: (r["score"], r["band"], r["version"])
        for r in await _fetch(
            databases, "traceability", "SELECT subject_id::text AS key, score, band, version FROM known_score"
        )
    }
    source_mismatch += [
        ("known_score", k, scores.get(k), copies.get(k))
        for k in sorted(set(scores) | set(copies))
        if scores.get(k) != copies.get(k)
    ]

    incident_causes, automatic = await _automatic_incidents(databases, outboxes["kyc"], payloads)
    pending = {s: sum(1 for r in outboxes[s] if r["pending"]) for s in SERVICES}
    unrecorded = await _unrecorded(databases, writes, outboxes, payloads, kyc_writes or Counter())
    return SystemFigures(
        expected=expected,
        lost=lost,
        differing=differing,
        source_mismatch=source_mismatch,
        duplicated=duplicated,
        incident_causes=incident_causes,
        pending=pending,
        dead_lettered=dead,
        unrecorded=unrecorded,
        automatic_incidents=automatic,
    )


async def _automatic_incidents(
    databases: Databases, kyc_outbox: list[asyncpg.Record], payloads: dict[str, dict[str, Any]]
) -> tuple[list[str], int]:
    """Each site turned red (from another status) is one firing of its cause: one incident per cause, and as many
    timeline entries `reported` + `cause_repeated` as firings."""
    firings: Counter = Counter()
    for r in kyc_outbox:
        if r["event_type"] == "MineSiteStatusChanged.v1":
            p = payloads[r["event_id"]]
            if p["status"] == "red" and p.get("previous_status") != "red":
                firings[f"kyc.site_red:{p['site_id']}"] += 1
    incidents = await _fetch(
        databases, "incidents", "SELECT id::text AS id, cause FROM incident WHERE cause IS NOT NULL"
    )
    by_cause: dict[str, list[str]] = defaultdict(list)
    for r in incidents:
        by_cause[r["cause"]].append(r["id"])
    entries = Counter(
        (r["id"])
        for r in await _fetch(
            databases,
            "incidents",
            "SELECT incident_id::text AS id FROM timeline_entry WHERE kind IN ('reported', 'cause_repeated')",
        )
    )
    wrong = []
    for cause in sorted(set(firings) | {c for c in by_cause if c.startswith("kyc.site_red:")}):
        ids = by_cause.get(cause, [])
        if len(ids) != 1:
            wrong.append(f"cause {cause}: {len(ids)} incidents for {firings[cause]} firings")
        elif entries[ids[0]] != firings[cause]:
            wrong.append(f"cause {cause}: {entries[ids[0]]} openings/updates for {firings[cause]} firings")
    return wrong, len(incidents)


async def _unrecorded(
    databases: Databases,
    writes: Writes,
    outboxes: dict[str, list[asyncpg.Record]],
    payloads: dict[str, dict[str, Any]],
    kyc_writes: Counter,
) -> dict[str, int]:
    """Acknowledged writes the source database does not show: KYC moves without their event, incident reports and
    steps without theirs, inspections without their row."""
    made = Counter(r["event_type"] for service in ("kyc", "incidents") for r in outboxes[service])
    kyc_events = {"create": "ActorRegistered.v1", "approve": "ActorApproved.v1", "suspend": "ActorSuspended.v1",
                  "reinstate": "ActorReinstated.v1"}  # fmt: skip
    incident_events = {"report": "IncidentReported.v1", "triage": "IncidentTriaged.v1",
                       "verify": "IncidentVerified.v1", "resolve": "IncidentResolved.v1",
                       "close": "IncidentClosed.v1"}  # fmt: skip
    staff_reports = sum(
        1
        for r in outboxes["incidents"]
        if r["event_type"] == "IncidentReported.v1" and payloads[r["event_id"]]["incident"]["source"] != "automatic"
    )
    inspections = len(await _fetch(databases, "kyc", "SELECT 1 FROM site_inspection"))
    missing = {
        "kyc": sum(max(0, n - made[kyc_events[k]]) for k, n in kyc_writes.items() if k in kyc_events),
        "incidents": sum(
            max(0, n - (staff_reports if k == "report" else made[incident_events[k]]))
            for k, n in writes.acknowledged.items()
            if k in incident_events
        ),
        "inspections": max(0, writes.acknowledged["inspect"] - inspections),
    }
    return missing


async def converge(
    system: System, writes: Writes, *, timeout: float, kyc_writes: Counter | None = None
) -> SystemFigures | None:
    deadline = time.monotonic() + timeout
    last: SystemFigures | None = None
    while True:
        try:
            last = await measure(system, writes, kyc_writes=kyc_writes)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):  # a database coming back: measure again
            pass
        if (last is not None and last.converged) or time.monotonic() > deadline:
            return last
        await asyncio.sleep(1.0)
