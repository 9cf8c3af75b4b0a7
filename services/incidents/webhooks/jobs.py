"""The delivery job: claims due deliveries under leases and sends them in the background, concurrently.

The job's pass only claims and starts sends, so it never waits for a receiver; each send records its own outcome
in its own transaction. At most `webhooks_per_subscription` sends of one subscription are in flight in a process,
so a slow or dead receiver holds its own slots and never the others'."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from libs.common import bus
from libs.common.db import utcnow
from libs.common.scheduler import Job
from services.incidents.settings import IncidentsSettings
from services.incidents.webhooks import domain, partner_topics, repository
from services.incidents.webhooks.delivery import Clients, Outcome, send
from services.incidents.webhooks.repository import Deliveries, Subscriptions

log = logging.getLogger("assay.incidents.webhooks")


class Dispatcher:
    def __init__(self, settings: IncidentsSettings) -> None:
        self.settings = settings
        self.clients: Clients | None = None
        self.sessions: async_sessionmaker[AsyncSession] | None = None
        self.slots: asyncio.Semaphore | None = None
        self.in_flight: Counter[UUID] = Counter()
        self.sending: set[UUID] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.topics: asyncio.Task[None] | None = None
        self.topics_retry_at = 0.0  # monotonic: no new attempt before (the broker was away)
        self.delivered: list[tuple[UUID, UUID, int | None]] = []
        self.failed: list[tuple[Any, Outcome]] = []
        self.flusher: asyncio.Task[None] | None = None

    def _start(self, db: AsyncSession) -> None:
        if self.clients is None:
            self.clients = Clients(per_receiver=self.settings.webhooks_per_subscription)
            self.slots = asyncio.Semaphore(self.settings.webhooks_concurrency)
        if self.sessions is None:
            assert isinstance(db.bind, AsyncEngine)
            self.sessions = async_sessionmaker(db.bind, expire_on_commit=False)

    async def _ensure_partner_topics(self) -> None:
        """The partner topics exist before the relay sends to them (a broker may refuse to auto-create topics)."""
        try:
            await asyncio.wait_for(bus.ensure_topics(self.settings, list(partner_topics.TOPIC_NAMES)), 15)
        except Exception as exc:  # the broker is away: the next pass tries again
            log.warning("could not create the partner topics; retrying", extra={"error": repr(exc)[:300]})
            self.topics, self.topics_retry_at = None, time.monotonic() + 5.0

    async def run(self, db: AsyncSession, now: datetime) -> int:
        self._start(db)
        if self.topics is None and time.monotonic() >= self.topics_retry_at:
            self.topics = asyncio.create_task(self._ensure_partner_topics())
        assert self.clients is not None
        await self.clients.sweep()
        lease = now + timedelta(seconds=self.settings.webhooks_lease_seconds)
        full = self.settings.webhooks_per_subscription
        saturated = [s for s, n in self.in_flight.items() if n >= full]
        claimed = await repository.claim_due(db, now, limit=self.settings.webhooks_batch, saturated=saturated)
        chosen = []
        for row in claimed:
            if row.id in self.sending or self.in_flight[row.subscription_id] >= self.settings.webhooks_per_subscription:
                continue  # left unleased: the next pass takes it
            chosen.append(row)
        await repository.lease(db, [row.id for row in chosen], lease)
        for row in chosen:
            self.sending.add(row.id)
            self.in_flight[row.subscription_id] += 1
            task = asyncio.create_task(self._deliver(row))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return len(chosen)

    async def _deliver(self, row: Any) -> None:
        try:
            assert self.clients is not None and self.slots is not None
            async with self.slots:
                now = utcnow()
                secrets = [row.secret]
                if row.previous_secret and row.previous_secret_until and row.previous_secret_until > now:
                    secrets.append(row.previous_secret)
                outcome = await send(
                    self.clients,
                    url=row.url,
                    msg_id=domain.webhook_id(row.id),
                    secrets=secrets,
                    body=row.payload,
                    timestamp=now,
                    allow_private=self.settings.webhooks_allow_private,
                    timeout=self.settings.webhooks_timeout_seconds,
                )
            await self._record(row, outcome)
        except Exception:
            log.exception("webhook delivery failed unexpectedly; retried when its lease ends")
        finally:
            self.sending.discard(row.id)
            self.in_flight[row.subscription_id] -= 1
            if self.in_flight[row.subscription_id] <= 0:
                del self.in_flight[row.subscription_id]

    async def _record(self, row: Any, outcome: Outcome) -> None:
        """Queue the outcome for the recorder: one task, one transaction per round for all outcomes gathered, so a
        burst of failures (a partner down) never takes more than one database connection."""
        if outcome.ok:
            self.delivered.append((row.id, row.subscription_id, outcome.status_code))
        else:
            self.failed.append((row, outcome))
        if self.flusher is None or self.flusher.done():
            self.flusher = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        """Record the outcomes gathered meanwhile (~20 ms). A worker killed before this resends them when their
        lease ends (at least once, same webhook-id)."""
        assert self.sessions is not None
        await asyncio.sleep(0.02)
        while self.delivered or self.failed:
            delivered, self.delivered = self.delivered, []
            failed, self.failed = self.failed, []
            try:
                async with self.sessions() as db, db.begin():
                    if delivered:
                        await self._record_delivered(db, delivered)
                    if failed:
                        await self._record_failed(db, failed)
            except Exception:
                log.exception("could not record webhook outcomes; they are sent again when their lease ends")

    async def _record_delivered(self, db: AsyncSession, batch: list[tuple[UUID, UUID, int | None]]) -> None:
        """One UPDATE per status code answered (nearly always one: 200), not one per delivery."""
        now = utcnow()
        by_code: dict[int | None, list[UUID]] = {}
        for delivery, _, code in batch:
            by_code.setdefault(code, []).append(delivery)
        for code, ids in sorted(by_code.items(), key=lambda kv: kv[0] or 0):
            await db.execute(
                sa.update(Deliveries)
                .where(Deliveries.c.id.in_(sorted(ids)), Deliveries.c.status == "pending")
                .values(
                    attempts=Deliveries.c.attempts + 1,
                    status="delivered",
                    delivered_at=now,
                    lease_until=None,
                    last_status_code=code,
                    last_error=None,
                )
            )
        # Only where there is something to reset: no lock on the hot subscription row per success.
        await db.execute(
            sa.update(Subscriptions)
            .where(Subscriptions.c.id.in_(sorted({s for _, s, _ in batch})), Subscriptions.c.consecutive_failures != 0)
            .values(consecutive_failures=0)
        )

    async def _record_failed(self, db: AsyncSession, batch: list[tuple[Any, Outcome]]) -> None:
        """Each failure: its next attempt on the retry schedule, or failed for good (which counts against its
        subscription, disabled after too many). Failures that end alike (same attempt count and outcome) are
        written by one UPDATE, so a partner down costs a few statements per round, not one per delivery."""
        now, limit = utcnow(), self.settings.webhooks_disable_after_failures
        current = {
            r.id: r
            for r in await db.execute(
                sa.select(Deliveries.c.id, Deliveries.c.attempts, Deliveries.c.status)
                .where(Deliveries.c.id.in_([row.id for row, _ in batch]))
                .order_by(Deliveries.c.id)
                .with_for_update()
            )
        }
        gave_up: Counter[UUID] = Counter()
        groups: dict[tuple[int, int | None, str | None], list[UUID]] = {}
        for row, outcome in batch:
            state = current.get(row.id)
            if state is None or state.status != "pending":
                continue  # deleted, or replayed/settled meanwhile
            groups.setdefault((state.attempts + 1, outcome.status_code, outcome.error), []).append(row.id)
            if domain.next_attempt(self.settings.webhooks_retry_schedule_seconds, state.attempts + 1, now) is None:
                gave_up[row.subscription_id] += 1
        for (attempts, status_code, error), ids in sorted(groups.items(), key=lambda kv: min(kv[1])):
            values: dict[str, Any] = {
                "attempts": attempts,
                "lease_until": None,
                "last_status_code": status_code,
                "last_error": error,
            }
            retry_at = domain.next_attempt(self.settings.webhooks_retry_schedule_seconds, attempts, now)
            if retry_at is None:
                values["status"] = "failed"
            else:
                values["next_attempt_at"] = retry_at
            await db.execute(sa.update(Deliveries).where(Deliveries.c.id.in_(sorted(ids))).values(**values))
        for subscription_id in sorted(gave_up):
            await db.execute(
                sa.update(Subscriptions)
                .where(Subscriptions.c.id == subscription_id)
                .values(consecutive_failures=Subscriptions.c.consecutive_failures + gave_up[subscription_id])
            )
            await db.execute(
                sa.update(Subscriptions)
                .where(
                    Subscriptions.c.id == subscription_id,
                    Subscriptions.c.consecutive_failures >= limit,
                    Subscriptions.c.enabled.is_(True),
                )
                .values(enabled=False, disabled_reason="too_many_failures", updated_at=now)
            )

    async def drain(self) -> None:
        """Wait for the sends in flight and their records (tests, benchmarks, shutdown)."""
        while self.tasks or (self.flusher is not None and not self.flusher.done()):
            await asyncio.gather(*list(self.tasks), return_exceptions=True)
            if self.flusher is not None:
                await asyncio.gather(self.flusher, return_exceptions=True)

    async def close(self) -> None:
        await self.drain()
        if self.topics is not None:
            await asyncio.gather(self.topics, return_exceptions=True)
        if self.clients is not None:
            await self.clients.aclose()
            self.clients = None


def jobs(settings: IncidentsSettings) -> Sequence[Job]:
    dispatcher = Dispatcher(settings)
    job = Job("incidents.webhooks.deliver", timedelta(seconds=settings.webhooks_every_seconds), dispatcher.run)
    DISPATCHERS.append(dispatcher)
    return [job]


DISPATCHERS: list[Dispatcher] = []  # the ones built in this process (tests drain them)
