"""The end-state check of the fault tests: KYC's database (the source of truth) against traceability's read model
and inbox, as figures printed on one line.

Duplicates and order are observed through two audit triggers this module installs in the test's traceability
database (schema `fault_audit`): one logs every inbox row actually inserted (a first delivery), the other every
committed change to known_actor, both with the transaction id. The inbox's primary key (consumer, event_id) makes a
second inbox row for an event impossible, so "applied twice" shows up as a change to an actor in a transaction
that took no new event of that actor. Not seen by that bound: an old event re-applied in the same transaction as a
new event of the same actor."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import asyncpg

from services.traceability.handlers import HANDLERS
from tests.support.processes import Databases, Platform

CONSUMER = "traceability"
HANDLED_TYPES = frozenset(cls.event_type() for cls in HANDLERS)
# What an acknowledged write of each kind must have left in KYC's outbox.
EVENT_OF_WRITE = {
    "create": "ActorRegistered.v1",
    "approve": "ActorApproved.v1",
    "suspend": "ActorSuspended.v1",
    "reinstate": "ActorReinstated.v1",
}

AUDIT_SQL = """
CREATE SCHEMA fault_audit;
CREATE TABLE fault_audit.delivery (seq bigserial PRIMARY KEY, consumer text NOT NULL, event_id text NOT NULL,
                                   tx bigint NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE fault_audit.effect (seq bigserial PRIMARY KEY, tx bigint NOT NULL, actor_id uuid NOT NULL,
                                 row jsonb NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION fault_audit.log_delivery() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fault_audit.delivery (consumer, event_id, tx) VALUES (NEW.consumer, NEW.event_id, txid_current());
    RETURN NULL;
END $$;
CREATE FUNCTION fault_audit.log_effect() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fault_audit.effect (tx, actor_id, row) VALUES (txid_current(), NEW.actor_id, to_jsonb(NEW));
    RETURN NULL;
END $$;
CREATE TRIGGER fault_audit_delivery AFTER INSERT ON processed_event
    FOR EACH ROW EXECUTE FUNCTION fault_audit.log_delivery();
CREATE TRIGGER fault_audit_effect AFTER INSERT OR UPDATE ON known_actor
    FOR EACH ROW EXECUTE FUNCTION fault_audit.log_effect();
"""


async def install_audit(databases: Databases) -> None:
    conn = await databases.connect("traceability")
    try:
        await conn.execute(AUDIT_SQL)
    finally:
        await conn.close()


@dataclass
class Writes:
    """What the test asked of the KYC API: acknowledged (2xx) by kind, and the rest."""

    acknowledged: Counter = field(default_factory=Counter)
    unacknowledged: int = 0  # no answer or a 5xx: may or may not have committed
    refused: Counter = field(default_factory=Counter)  # 4xx by problem code: nothing committed

    @property
    def acknowledged_total(self) -> int:
        return sum(self.acknowledged.values())


@dataclass
class Figures:
    writes: Writes
    expected: int  # KYC outbox events of the types traceability handles
    applied: int  # of those, the ones in traceability's inbox
    lost_events: list[str]
    differing: list[tuple[str, tuple, tuple | None]]  # actor, source (status, name, version), read model
    duplicated: int
    out_of_order: int
    regressions: int | None  # None: the read model has no version to compare
    dead_lettered: int
    pending: int  # KYC outbox rows not yet handed to the broker
    unrecorded: int  # acknowledged writes without their event in KYC's outbox
    read_model_versioned: bool

    @property
    def lost(self) -> int:
        return len(self.lost_events) + len(self.differing)

    @property
    def converged(self) -> bool:
        return self.lost == 0 and self.pending == 0

    def line(self, seed: int | str) -> str:
        regressions = "n/a(no version column)" if self.regressions is None else self.regressions
        return (
            f"FAULT FIGURES seed={seed} acknowledged={self.writes.acknowledged_total} "
            f"unacknowledged={self.writes.unacknowledged} refused={sum(self.writes.refused.values())} "
            f"expected={self.expected} applied={self.applied} lost={self.lost} "
            f"(events={len(self.lost_events)} actors={len(self.differing)}) duplicated={self.duplicated} "
            f"out_of_order={self.out_of_order} regressions={regressions} dead_lettered={self.dead_lettered} "
            f"pending={self.pending} unrecorded={self.unrecorded}"
        )

    def details(self, limit: int = 5) -> str:
        lines = [f"actor {a}: kyc={src} read_model={rm}" for a, src, rm in self.differing[:limit]]
        if len(self.differing) > limit:
            lines.append(f"... and {len(self.differing) - limit} more actors differ")
        if self.lost_events:
            lines.append(f"events missing from the inbox: {len(self.lost_events)}, e.g. {self.lost_events[:3]}")
        if not self.read_model_versioned:
            lines.append("known_actor has no `version` column: the read model cannot tell newer from older")
        return "\n".join(lines)


async def measure(databases: Databases, writes: Writes) -> Figures:
    kyc = await databases.connect("kyc")
    try:
        outbox = await kyc.fetch(
            "SELECT id, event_id, key, event_type, published_at IS NULL AS pending, "
            "(payload::jsonb ->> 'aggregate_version')::int AS aggregate_version "
            "FROM outbox_message WHERE topic = 'kyc.events' ORDER BY id"
        )
        source = await _source(kyc, [r for r in outbox if r["event_type"] in HANDLED_TYPES])
    finally:
        await kyc.close()
    trace = await databases.connect("traceability")
    try:
        read_model, versioned = await _read_model(trace)
        inbox = {
            r["event_id"]
            for r in await trace.fetch("SELECT event_id FROM processed_event WHERE consumer = $1", CONSUMER)
        }
        dead = (
            await trace.fetchval("SELECT count(*) FROM dead_letter")
            if await trace.fetchval("SELECT to_regclass('public.dead_letter') IS NOT NULL")
            else 0
        )
        deliveries = await trace.fetch(
            "SELECT seq, event_id, tx FROM fault_audit.delivery WHERE consumer = $1 ORDER BY seq", CONSUMER
        )
        effects = await trace.fetch(
            "SELECT seq, tx, actor_id::text AS actor_id, row->>'version' AS version "
            "FROM fault_audit.effect ORDER BY seq"
        )
    finally:
        await trace.close()
    handled = [r for r in outbox if r["event_type"] in HANDLED_TYPES]
    position = {r["event_id"]: (r["key"], r["id"]) for r in handled}
    differing = [
        (actor, state, read_model.get(actor))
        for actor, state in sorted(source.items())
        if read_model.get(actor) != state
    ]
    made = Counter(r["event_type"] for r in outbox)
    return Figures(
        writes=writes,
        expected=len(handled),
        applied=sum(1 for r in handled if r["event_id"] in inbox),
        lost_events=[r["event_id"] for r in handled if r["event_id"] not in inbox],
        differing=differing,
        duplicated=_duplicated(deliveries, effects, position),
        out_of_order=_out_of_order(deliveries, position),
        regressions=_regressions(effects) if versioned else None,
        dead_lettered=dead,
        pending=sum(1 for r in outbox if r["pending"]),
        unrecorded=sum(
            max(0, n - made[EVENT_OF_WRITE[kind]]) for kind, n in writes.acknowledged.items() if kind in EVENT_OF_WRITE
        ),
        read_model_versioned=versioned,
    )


async def _source(kyc: asyncpg.Connection, handled: list) -> dict[str, tuple]:
    """Each actor's (kyc_status, legal_name, version) as KYC's database has it. The version a read model should
    hold is that of the newest event it handles (KYC also numbers events it does not handle, e.g. screenings);
    without versions in the events, the actor's own counter (`event_seq`, else `version`)."""
    columns = {
        r["column_name"]
        for r in await kyc.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'actor'"
        )
    }
    counter = "event_seq" if "event_seq" in columns else "version"
    newest: dict[str, int] = {}
    for r in handled:
        if r["aggregate_version"] is not None:
            newest[r["key"]] = max(r["aggregate_version"], newest.get(r["key"], -1))
    rows = await kyc.fetch(f"SELECT id, kyc_status, legal_name, {counter} AS counter FROM actor")
    return {str(r["id"]): (r["kyc_status"], r["legal_name"], newest.get(str(r["id"]), r["counter"])) for r in rows}


async def _read_model(trace: asyncpg.Connection) -> tuple[dict[str, tuple], bool]:
    columns = {
        r["column_name"]
        for r in await trace.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = 'known_actor'"
        )
    }
    versioned = "version" in columns
    version = "version" if versioned else "NULL::int"
    rows = await trace.fetch(f"SELECT actor_id, kyc_status, legal_name, {version} AS version FROM known_actor")
    return {str(r["actor_id"]): (r["kyc_status"], r["legal_name"], r["version"]) for r in rows}, versioned


def _duplicated(deliveries: list, effects: list, position: dict[str, tuple[str, int]]) -> int:
    """Changes to an actor in a transaction that took no new event of that actor: an event applied again."""
    fresh = {(d["tx"], position[d["event_id"]][0]) for d in deliveries if d["event_id"] in position}
    return len({(e["tx"], e["actor_id"]) for e in effects} - fresh)


def _out_of_order(deliveries: list, position: dict[str, tuple[str, int]]) -> int:
    """Events first applied after a newer event of the same actor (later in KYC's outbox) was applied."""
    newest: dict[str, int] = {}
    late = 0
    for d in deliveries:
        if d["event_id"] not in position:
            continue
        actor, order = position[d["event_id"]]
        if order < newest.get(actor, -1):
            late += 1
        newest[actor] = max(order, newest.get(actor, -1))
    return late


def _regressions(effects: list) -> int:
    """Committed changes that set an actor's version lower than one it had: the read model went backwards."""
    highest: dict[str, int] = defaultdict(lambda: -1)
    back = 0
    for e in effects:
        if e["version"] is None:
            continue
        version = int(e["version"])
        if version < highest[e["actor_id"]]:
            back += 1
        highest[e["actor_id"]] = max(version, highest[e["actor_id"]])
    return back


async def converge(platform: Platform, writes: Writes, *, timeout: float) -> Figures | None:
    """Measure until source and read model agree (or the deadline passes); the last figures measured."""
    deadline = time.monotonic() + timeout
    last: Figures | None = None
    while True:
        try:
            last = await measure(platform.databases, writes)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):  # a database coming back: measure again
            pass
        if (last is not None and last.converged) or time.monotonic() > deadline:
            return last
        await asyncio.sleep(0.5)


def report(figures: Figures | None, platform: Platform, seed: int | str, *, logs: tuple[str, ...] = ()) -> str:
    """The figures line, what differs, and the tails of the processes' logs: the assertion message."""
    if figures is None:
        return f"no figures could be measured (databases unreachable)\n{platform.logs(*logs)}"
    return f"{figures.line(seed)}\n{figures.details()}\n{platform.logs(*logs)}"
