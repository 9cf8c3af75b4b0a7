"""The delivery job: claims due deliveries under leases and sends them in the background, concurrently.

The job's pass only claims and starts sends, so it never waits for a receiver; each send records its own outcome
in its own transaction. At most `webhooks_per_subscription` sends of one subscription are in flight in a process,
so a slow or dead receiver holds its own slots and never the others'."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from libs.common import bus
from libs.common.db import utcnow
from libs.common.scheduler import Job
from services.incidents.settings import IncidentsSettings
from services.incidents.webhooks import domain, partner_topics, repository
from services.incidents.webhooks.delivery import Outcome, send
from services.incidents.webhooks.repository import Deliveries, Subscriptions

log = logging.getLogger("assay.incidents.webhooks")


class Dispatcher:
    def __init__(self, settings: IncidentsSettings) -> None:
        self.settings = settings
        self.client: httpx.AsyncClient | None = None
        self.sessions: async_sessionmaker[AsyncSession] | None = None
        self.slots: asyncio.Semaphore | None = None
        self.in_flight: Counter[UUID] = Counter()
        self.sending: set[UUID] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.topics: asyncio.Task[None] | None = None
        self.delivered: list[tuple[UUID, UUID, int | None]] = []
        self.flusher: asyncio.Task[None] | None = None

    def _start(self, db: AsyncSession) -> None:
        if self.client is None:
            limits = httpx.Limits(max_connections=self.settings.webhooks_concurrency, max_keepalive_connections=200)
            self.client = httpx.AsyncClient(limits=limits, follow_redirects=False, trust_env=False)
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
            self.topics = None

    async def run(self, db: AsyncSession, now: datetime) -> int:
        self._start(db)
        if self.topics is None:
            self.topics = asyncio.create_task(self._ensure_partner_topics())
        lease = now + timedelta(seconds=self.settings.webhooks_lease_seconds)
        claimed = await repository.claim_due(db, now, limit=self.settings.webhooks_batch)
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
            assert self.client is not None and self.slots is not None
            async with self.slots:
                now = utcnow()
                secrets = [row.secret]
                if row.previous_secret and row.previous_secret_until and row.previous_secret_until > now:
                    secrets.append(row.previous_secret)
                outcome = await send(
                    self.client,
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
        assert self.sessions is not None
        now = utcnow()
        if outcome.ok:  # the common case: batched, one statement for all the successes of ~20 ms
            self.delivered.append((row.id, row.subscription_id, outcome.status_code))
            if self.flusher is None or self.flusher.done():
                self.flusher = asyncio.create_task(self._flush_delivered())
            return
        async with self.sessions() as db, db.begin():
            current = (
                await db.execute(
                    sa.select(Deliveries.c.attempts, Deliveries.c.status)
                    .where(Deliveries.c.id == row.id)
                    .with_for_update()
                )
            ).first()
            if current is None or current.status != "pending":
                return  # deleted, or replayed/settled meanwhile
            attempts = current.attempts + 1
            values: dict[str, Any] = {
                "attempts": attempts,
                "lease_until": None,
                "last_status_code": outcome.status_code,
                "last_error": outcome.error,
            }
            subscription: dict[str, Any] = {}
            if outcome.ok:
                values |= {"status": "delivered", "delivered_at": now}
                subscription = {"consecutive_failures": 0}
            else:
                retry_at = domain.next_attempt(self.settings.webhooks_retry_schedule_seconds, attempts, now)
                if retry_at is None:
                    values["status"] = "failed"
                    subscription = {"consecutive_failures": Subscriptions.c.consecutive_failures + 1}
                else:
                    values["next_attempt_at"] = retry_at
            await db.execute(sa.update(Deliveries).where(Deliveries.c.id == row.id).values(**values))
            if subscription:
                update = sa.update(Subscriptions).where(Subscriptions.c.id == row.subscription_id)
                if outcome.ok:  # only when there is something to reset: no lock on the hot row per success
                    update = update.where(Subscriptions.c.consecutive_failures != 0)
                await db.execute(update.values(**subscription))
                if not outcome.ok:
                    limit = self.settings.webhooks_disable_after_failures
                    await db.execute(
                        sa.update(Subscriptions)
                        .where(
                            Subscriptions.c.id == row.subscription_id,
                            Subscriptions.c.consecutive_failures >= limit,
                            Subscriptions.c.enabled.is_(True),
                        )
                        .values(enabled=False, disabled_reason="too_many_failures", updated_at=now)
                    )

    async def _flush_delivered(self) -> None:
        """Record the successes gathered meanwhile. A worker killed before this resends them when their lease ends
        (at least once, same webhook-id)."""
        assert self.sessions is not None
        await asyncio.sleep(0.02)
        while self.delivered:
            batch, self.delivered = self.delivered, []
            try:
                async with self.sessions() as db, db.begin():
                    await db.execute(
                        sa.update(Deliveries)
                        .where(Deliveries.c.id.in_([d for d, _, _ in batch]), Deliveries.c.status == "pending")
                        .values(
                            attempts=Deliveries.c.attempts + 1,
                            status="delivered",
                            delivered_at=utcnow(),
                            lease_until=None,
                            last_status_code=sa.case(
                                {d: code for d, _, code in batch}, value=Deliveries.c.id, else_=200
                            ),
                            last_error=None,
                        )
                    )
                    await db.execute(
                        sa.update(Subscriptions)
                        .where(
                            Subscriptions.c.id.in_(sorted({s for _, s, _ in batch})),
                            Subscriptions.c.consecutive_failures != 0,
                        )
                        .values(consecutive_failures=0)
                    )
            except Exception:
                log.exception("could not record delivered webhooks; they are sent again when their lease ends")

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
        if self.client is not None:
            await self.client.aclose()
            self.client = None


def jobs(settings: IncidentsSettings) -> Sequence[Job]:
    dispatcher = Dispatcher(settings)
    job = Job("incidents.webhooks.deliver", timedelta(seconds=settings.webhooks_every_seconds), dispatcher.run)
    DISPATCHERS.append(dispatcher)
    return [job]


DISPATCHERS: list[Dispatcher] = []  # the ones built in this process (tests drain them)
