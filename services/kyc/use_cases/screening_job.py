"""The screening job: screens pending subjects against every current entry, and every subject against the
entries a new snapshot added or changed; stores hits and tells what it found."""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events.kyc import ScreeningCompleted
from services.kyc.domain import screening as rules
from services.kyc.domain import watchlists as lists
from services.kyc.domain.screening import SNAPSHOT, ScreenedSubject, Triage
from services.kyc.repository import actors as actor_repository
from services.kyc.repository import screening as repository
from services.kyc.repository import watchlists as watchlist_repository
from services.kyc.screening.matcher import DEFAULT_THRESHOLD, Match, ScreeningIndex
from services.kyc.tables.register import ActorRow, PersonRow
from services.kyc.tables.screening import (
    ScreeningHitRow,
    ScreeningRequestRow,
    WatchlistSnapshotRow,
)
from services.kyc.use_cases import announce, history
from services.kyc.use_cases.screening_index import ScreeningIndexes, delta_index

log = logging.getLogger("assay.kyc.screening")
MATCH_LIMIT = 50  # matches kept per subject and screening


@dataclass(frozen=True)
class Finding:
    """What one screening of a subject found, told once the batch's screening is done."""

    subject: ScreenedSubject
    open_hits: int
    raised: int
    snapshot_ids: list[UUID]


@dataclass(frozen=True)
class Tuning:
    batch_size: int = 200
    threshold: float = DEFAULT_THRESHOLD
    delta_index_max: int = 20_000  # changed entries up to which a snapshot's re-screen builds an index of its own


async def run_pending(db: AsyncSession, now: datetime, *, indexes: ScreeningIndexes, tuning: Tuning) -> int:
    """One pass over the oldest pending requests (locked, so a second worker takes others); returns how many
    were done. A request that fails stays pending (and its actor unapprovable) without holding up the others."""
    requests = await repository.claim_pending_requests(db, limit=tuning.batch_size)
    screened: dict[UUID, int] = {}  # a subject asked for twice in one batch is screened once
    findings: list[Finding] = []
    done = 0
    for request in requests:
        found: list[Finding] = []
        try:
            async with db.begin_nested():
                request.hit_count = await _handle(db, request, now, indexes=indexes, tuning=tuning, screened=screened,
                                                  found=found)
                request.status, request.completed_at = "done", now
            findings.extend(found)  # only what a request that went through found
            done += 1
        except Exception:  # one bad subject or entry must not block every screening behind it
            log.exception("screening request failed", extra={"request_id": str(request.id)})
    await _tell(db, findings)
    return done


async def _tell(db: AsyncSession, findings: list[Finding]) -> None:
    """ScreeningCompleted per finding, after the slow part: each takes its actor's row lock (for the event's
    version) until the batch commits, so edits of those actors wait only for this step; in actor order, so two
    workers never wait on each other's locks (an actor's own findings keep their order: the sort is stable)."""
    for finding in sorted(findings, key=lambda f: f.subject.actor_id):
        subject = finding.subject
        actor = await actor_repository.get_actor(db, subject.actor_id, org_id=subject.org_id)
        await announce.actor_event(db, actor, ScreeningCompleted, subject_type=subject.subject_type,
                                   subject_id=subject.subject_id, hit_count=finding.open_hits,
                                   new_hit_count=finding.raised, list_snapshot_ids=finding.snapshot_ids)


async def _handle(db: AsyncSession, request: ScreeningRequestRow, now: datetime, *, indexes: ScreeningIndexes,
                  tuning: Tuning, screened: dict[UUID, int], found: list[Finding]) -> int:
    if request.subject_type == SNAPSHOT:
        return await _rescreen_snapshot(db, request, now, indexes=indexes, tuning=tuning, found=found)
    if request.subject_id not in screened:
        screened[request.subject_id] = await _screen_subject(db, request, now, indexes=indexes,
                                                             threshold=tuning.threshold, found=found)
    return screened[request.subject_id]


async def _screen_subject(db: AsyncSession, request: ScreeningRequestRow, now: datetime, *,
                          indexes: ScreeningIndexes, threshold: float, found: list[Finding]) -> int:
    subject = await _load_subject(db, request.subject_type, request.subject_id)
    if subject is None:
        return 0  # removed from the register since it was queued
    index = await indexes.for_org(db, subject.org_id)
    matches = await asyncio.to_thread(index.screen, subject.subject, threshold=threshold, limit=MATCH_LIMIT)
    raised = await _record_matches(db, subject, matches, now)
    snapshots = await watchlist_repository.current_snapshot_ids(db, org_id=subject.org_id)
    return await _completed(db, subject, raised=raised, snapshot_ids=snapshots, found=found)


async def _rescreen_snapshot(db: AsyncSession, request: ScreeningRequestRow, now: datetime, *,
                             indexes: ScreeningIndexes, tuning: Tuning, found: list[Finding]) -> int:
    """Only the entries this snapshot added or changed are new to the subjects; the rest were screened before.
    Subjects that gain no hit get no event: the list, not the subject, changed."""
    snapshot = await db.get(WatchlistSnapshotRow, request.subject_id)
    if snapshot is None:
        return 0
    changed = await watchlist_repository.entry_ids_changed_in(db, snapshot.watchlist_id, snapshot.version)
    if not changed:
        return 0
    index, only = await _changed_entries_index(db, snapshot, changed, indexes=indexes,
                                               delta_index_max=tuning.delta_index_max)
    subjects = await _org_subjects(db, request.org_id)
    matched = await asyncio.to_thread(_screen_all, index, subjects, tuning.threshold, only)
    total = 0
    for subject, matches in matched:
        if raised := await _record_matches(db, subject, matches, now):
            total += raised
            await _completed(db, subject, raised=raised, snapshot_ids=[snapshot.id], found=found)
    return total


async def _changed_entries_index(db: AsyncSession, snapshot: WatchlistSnapshotRow, changed: list[str], *,
                                 indexes: ScreeningIndexes,
                                 delta_index_max: int) -> tuple[ScreeningIndex, set[str] | None]:
    """A small delta gets an index of its own (screening cost follows the delta, not the list); a large one
    (a first import) uses the organisation's index, which holds it already, keeping only its matches."""
    if len(changed) <= delta_index_max:
        rows = await watchlist_repository.entries_changed_in(db, snapshot.watchlist_id, snapshot.version)
        return await asyncio.to_thread(delta_index, snapshot.watchlist_id, rows), None
    index = await indexes.for_org(db, snapshot.org_id)
    return index, {lists.index_key(snapshot.watchlist_id, entry_id) for entry_id in changed}


def _screen_all(index: ScreeningIndex, subjects: list[ScreenedSubject], threshold: float,
                only: set[str] | None) -> list[tuple[ScreenedSubject, list[Match]]]:
    found = []
    for subject in subjects:
        matches = index.screen(subject.subject, threshold=threshold, limit=MATCH_LIMIT)
        if only is not None:
            matches = [m for m in matches if m.entry_id in only]
        if matches:
            found.append((subject, matches))
    return found


async def _record_matches(db: AsyncSession, subject: ScreenedSubject, matches: list[Match], now: datetime) -> int:
    """Turn matches into hits by the triage rule; returns how many new hits were raised."""
    if not matches:
        return 0
    keyed = [(lists.split_key(m.entry_id), m) for m in matches]
    fingerprints = await watchlist_repository.entry_fingerprints(db, [k for k, _ in keyed])
    earlier: dict[tuple[UUID, str], list[ScreeningHitRow]] = defaultdict(list)
    for hit in await repository.list_subject_hits(db, subject.subject_id):
        earlier[(hit.watchlist_id, hit.entry_id)].append(hit)
    raised = 0
    for key, match in keyed:
        if key not in fingerprints:
            continue  # removed by a snapshot newer than the index
        facts = {"entry_fingerprint": fingerprints[key], "subject_fingerprint": subject.fingerprint}
        verdict = rules.triage(earlier[key], **facts)
        if verdict is Triage.RAISE:
            repository.save_hit(db, _new_hit(subject, key, match, now, **facts))
            raised += 1
        elif verdict is Triage.REFRESH:
            pending = next(h for h in earlier[key] if h.status == rules.HitStatus.PENDING)
            _refresh(pending, match, **facts)
    await db.flush()
    return raised


def _new_hit(subject: ScreenedSubject, key: tuple[UUID, str], match: Match, now: datetime, *,
             entry_fingerprint: str, subject_fingerprint: str) -> ScreeningHitRow:
    return ScreeningHitRow(
        id=uuid4(), org_id=subject.org_id, actor_id=subject.actor_id, subject_type=subject.subject_type,
        subject_id=subject.subject_id, subject_name=match.subject_name[:300], watchlist_id=key[0], entry_id=key[1],
        entry_fingerprint=entry_fingerprint, subject_fingerprint=subject_fingerprint, score=match.score,
        matched_name=match.matched_name[:500], explanation=list(match.explanation), entry_removed=False,
        status=rules.HitStatus.PENDING, created_at=now)


def _refresh(hit: ScreeningHitRow, match: Match, *, entry_fingerprint: str, subject_fingerprint: str) -> None:
    hit.score, hit.matched_name, hit.subject_name = match.score, match.matched_name[:500], match.subject_name[:300]
    hit.explanation, hit.entry_removed = list(match.explanation), False
    hit.entry_fingerprint, hit.subject_fingerprint = entry_fingerprint, subject_fingerprint


async def _completed(db: AsyncSession, subject: ScreenedSubject, *, raised: int, snapshot_ids: list[UUID],
                     found: list[Finding]) -> int:
    open_hits = await repository.count_open_hits(db, subject.subject_id)
    found.append(Finding(subject, open_hits, raised, snapshot_ids))
    history.record(db, org_id=subject.org_id, user_id=history.SYSTEM, entity_type=subject.subject_type,
                   entity_id=subject.subject_id, action="screened", actor_id=subject.actor_id,
                   changes={"open_hits": open_hits, "new_hits": raised,
                            "list_snapshot_ids": [str(s) for s in snapshot_ids]})
    return open_hits


async def _load_subject(db: AsyncSession, subject_type: str, subject_id: UUID) -> ScreenedSubject | None:
    if subject_type == "actor":
        actor = await repository.find_actor(db, subject_id)
        return _actor(actor) if actor else None
    person = await repository.find_person(db, subject_id)
    return _person(person) if person else None


async def _org_subjects(db: AsyncSession, org_id: str) -> list[ScreenedSubject]:
    return [*map(_actor, await repository.list_org_actors(db, org_id=org_id)),
            *map(_person, await repository.list_org_persons(db, org_id=org_id))]


def _actor(row: ActorRow) -> ScreenedSubject:
    subject = rules.actor_subject(legal_name=row.legal_name, aliases=row.aliases, country=row.country,
                                  registration_number=row.registration_number, tax_number=row.tax_number)
    return ScreenedSubject("actor", row.id, row.id, row.org_id, subject)


def _person(row: PersonRow) -> ScreenedSubject:
    subject = rules.person_subject(person_type=row.person_type, full_name=row.full_name, aliases=row.aliases,
                                   birth_date=row.birth_date, nationality=row.nationality,
                                   identifiers=row.identifiers)
    return ScreenedSubject("person", row.id, row.actor_id, row.org_id, subject)
