"""The screening job: screens pending subjects against every current entry, and every subject against the
entries a new snapshot added or changed; stores hits and tells what it found."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.kyc.domain import screening as rules
from services.kyc.domain import watchlists as lists
from services.kyc.domain.history import SYSTEM
from services.kyc.domain.screening import (
    SNAPSHOT,
    Hit,
    ScreenedSubject,
    ScreeningRequest,
    Triage,
)
from services.kyc.domain.watchlists import Snapshot
from services.kyc.repository import actors as actor_repository
from services.kyc.repository import screening as repository
from services.kyc.repository import watchlists as watchlist_repository
from services.kyc.screening.matcher import DEFAULT_THRESHOLD, Match, ScreeningIndex
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
                hit_count = await _handle(
                    db, request, now, indexes=indexes, tuning=tuning, screened=screened, found=found
                )
                request.complete(hit_count=hit_count, now=now)
                await repository.save_request(db, request)
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
        actor = await actor_repository.find_actor(db, subject.actor_id, org_id=subject.org_id, for_update=True)
        if actor is None:
            continue  # removed from the register since it was screened
        await announce.save_actor(
            db,
            actor,
            actor.screened(
                subject, open_hits=finding.open_hits, raised=finding.raised, snapshot_ids=finding.snapshot_ids
            ),
        )


async def _handle(
    db: AsyncSession,
    request: ScreeningRequest,
    now: datetime,
    *,
    indexes: ScreeningIndexes,
    tuning: Tuning,
    screened: dict[UUID, int],
    found: list[Finding],
) -> int:
    if request.subject_type == SNAPSHOT:
        return await _rescreen_snapshot(db, request, now, indexes=indexes, tuning=tuning, found=found)
    if request.subject_id not in screened:
        screened[request.subject_id] = await _screen_subject(
            db, request, now, indexes=indexes, threshold=tuning.threshold, found=found
        )
    return screened[request.subject_id]


async def _screen_subject(
    db: AsyncSession,
    request: ScreeningRequest,
    now: datetime,
    *,
    indexes: ScreeningIndexes,
    threshold: float,
    found: list[Finding],
) -> int:
    subject = await repository.find_subject(db, request.subject_type, request.subject_id)
    if subject is None:
        return 0  # removed from the register since it was queued
    index = await indexes.for_org(db, subject.org_id)
    matches = await asyncio.to_thread(index.screen, subject.subject, threshold=threshold, limit=MATCH_LIMIT)
    raised = await _record_matches(db, subject, matches, now)
    snapshots = await watchlist_repository.current_snapshot_ids(db, org_id=subject.org_id)
    return await _completed(db, subject, raised=raised, snapshot_ids=snapshots, found=found)


async def _rescreen_snapshot(
    db: AsyncSession,
    request: ScreeningRequest,
    now: datetime,
    *,
    indexes: ScreeningIndexes,
    tuning: Tuning,
    found: list[Finding],
) -> int:
    """Only the entries this snapshot added or changed are new to the subjects; the rest were screened before.
    Subjects that gain no hit get no event: the list, not the subject, changed."""
    snapshot = await watchlist_repository.find_snapshot_by_id(db, request.subject_id)
    if snapshot is None:
        return 0
    changed = await watchlist_repository.entry_ids_changed_in(db, snapshot.watchlist_id, snapshot.version)
    if not changed:
        return 0
    index, only = await _changed_entries_index(
        db, snapshot, changed, indexes=indexes, delta_index_max=tuning.delta_index_max
    )
    subjects = await repository.list_subjects(db, org_id=request.org_id)
    matched = await asyncio.to_thread(_screen_all, index, subjects, tuning.threshold, only)
    total = 0
    for subject, matches in matched:
        if raised := await _record_matches(db, subject, matches, now):
            total += raised
            await _completed(db, subject, raised=raised, snapshot_ids=[snapshot.id], found=found)
    return total


async def _changed_entries_index(
    db: AsyncSession, snapshot: Snapshot, changed: list[str], *, indexes: ScreeningIndexes, delta_index_max: int
) -> tuple[ScreeningIndex, set[str] | None]:
    """A small delta gets an index of its own (screening cost follows the delta, not the list); a large one
    (a first import) uses the organisation's index, which holds it already, keeping only its matches."""
    if len(changed) <= delta_index_max:
        rows = await watchlist_repository.entries_changed_in(db, snapshot.watchlist_id, snapshot.version)
        return await asyncio.to_thread(delta_index, snapshot.watchlist_id, rows), None
    index = await indexes.for_org(db, snapshot.org_id)
    return index, {lists.index_key(snapshot.watchlist_id, entry_id) for entry_id in changed}


def _screen_all(
    index: ScreeningIndex, subjects: list[ScreenedSubject], threshold: float, only: set[str] | None
) -> list[tuple[ScreenedSubject, list[Match]]]:
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
    entries = await watchlist_repository.entry_facts(db, [k for k, _ in keyed])
    earlier: dict[tuple[UUID, str], list[Hit]] = defaultdict(list)
    for hit in await repository.list_subject_hits(db, subject.subject_id):
        earlier[(hit.watchlist_id, hit.entry_id)].append(hit)
    raised = 0
    for key, match in keyed:
        if key not in entries:
            continue  # removed by a snapshot newer than the index
        entry = entries[key]
        verdict = rules.triage(
            earlier[key], entry_fingerprint=entry.fingerprint, subject_fingerprint=subject.fingerprint
        )
        if verdict is Triage.RAISE:
            # A pair dismissed before comes back only because one side changed: the hit says which, and how.
            await repository.save_hit(db, Hit.new(subject, key, match, now, entry=entry, earlier=earlier[key]))
            raised += 1
        elif verdict is Triage.REFRESH:
            pending = next(h for h in earlier[key] if h.status == rules.HitStatus.PENDING)
            pending.refresh(
                match,
                entry_fingerprint=entry.fingerprint,
                subject_fingerprint=subject.fingerprint,
                subject=subject,
                entry_version=entry.version,
            )
            await repository.save_hit(db, pending)
    return raised


async def _completed(
    db: AsyncSession, subject: ScreenedSubject, *, raised: int, snapshot_ids: list[UUID], found: list[Finding]
) -> int:
    open_hits = await repository.count_open_hits(db, subject.subject_id)
    found.append(Finding(subject, open_hits, raised, snapshot_ids))
    history.record(
        db,
        org_id=subject.org_id,
        user_id=SYSTEM,
        entity_type=subject.subject_type,
        entity_id=subject.subject_id,
        action="screened",
        actor_id=subject.actor_id,
        changes={"open_hits": open_hits, "new_hits": raised, "list_snapshot_ids": [str(s) for s in snapshot_ids]},
    )
    return open_hits
