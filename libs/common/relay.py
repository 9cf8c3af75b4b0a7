"""The outbox relay loop: publish pending rows, survive broker outages, refill a broker that lost its log."""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common import bus, outbox
from libs.common.settings import ServiceSettings

log = logging.getLogger("assay.relay")
CHECK_EVERY_SECONDS = 5.0
STRIKES = 3


class Relay:
    def __init__(self, settings: ServiceSettings, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.settings, self.sessions = settings, sessions
        self.producer: AIOKafkaProducer | None = None
        self.last_check = 0.0
        self.high_offsets: dict[tuple[str, int], int] = {}
        self.strikes: tuple[str | None, int] = (None, 0)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._connect()
                await self._drain(stop)
            except (KafkaError, OSError) as exc:
                log.warning("relay lost the broker; retrying", extra={"error": repr(exc)})
                await self._disconnect(abandon=True)
                await _sleep(stop, 1.0)
        await self._disconnect()

    async def _connect(self) -> None:
        if self.producer is None:
            producer = bus.make_producer(self.settings)
            await producer.start()
            self.producer = producer
            self.last_check = 0.0  # a (re)connection may be to a broker that lost everything

    async def _disconnect(self, *, abandon: bool = False) -> None:
        if self.producer is not None:
            try:
                await (bus.abandon_producer(self.producer) if abandon else self.producer.stop())
            except Exception:  # stopping a producer whose broker is gone may fail; nothing is left to release
                pass
            self.producer = None

    async def _drain(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if time.monotonic() - self.last_check > CHECK_EVERY_SECONDS:
                await self.refill_if_broker_lost()
                self.last_check = time.monotonic()
            sent = await outbox.relay_batch(self.sessions, self.producer, limit=self.settings.relay_batch_size,
                                            ack_timeout=self.settings.relay_ack_timeout_seconds,
                                            acked=self._watch_offsets)
            if sent == 0:
                await _sleep(stop, self.settings.relay_idle_seconds)

    def _watch_offsets(self, acks: list[Any]) -> None:
        """An ack at a lower offset than one we saw before means the partition's log started over."""
        for ack in acks:
            tp = (ack.topic, ack.partition)
            if ack.offset <= self.high_offsets.get(tp, -1):
                log.warning("partition offsets went back: the broker lost its log", extra={"partition": tp})
                self.last_check = 0.0
                self.high_offsets.clear()
                return
            self.high_offsets[tp] = ack.offset

    async def refill_if_broker_lost(self) -> int:
        """If the broker no longer holds our newest published event where it acked it, it lost its log: mark every
        retained event unpublished so it is sent again (consumers drop the duplicates).

        Evidence: another event at the marker's offset is proof at once. No record there is only a hint (Tansu can
        serve a fresh ack a moment late), so it must repeat for the same marker on STRIKES checks in a row."""
        topic = self.settings.topic
        await bus.ensure_topics(self.settings, [topic])
        marker = await outbox.find_marker(self.sessions, topic)
        if marker is None:
            return 0
        found = await bus.event_id_at(self.settings, topic, marker.partition, marker.offset)
        if found == marker.event_id:
            self.strikes = (None, 0)
            return 0
        if found is None:
            count = self.strikes[1] + 1 if self.strikes[0] == marker.event_id else 1
            self.strikes = (marker.event_id, count)
            if count < STRIKES:
                return 0
        self.strikes = (None, 0)
        requeued = await outbox.requeue_published(self.sessions, topic)
        log.warning("broker lost its log; republishing retained events",
                    extra={"events": requeued, "marker_offset": marker.offset, "found": found})
        return requeued


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass
