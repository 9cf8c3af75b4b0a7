"""A relay process that publishes one batch and is killed (SIGKILL) before it marks the rows published."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from libs.common import bus, outbox
from libs.common.db import make_engine, make_sessions
from services.kyc.settings import KycSettings


async def main(database_url: str, bootstrap: str) -> None:
    settings = KycSettings(database_url=database_url, kafka_bootstrap_servers=bootstrap)
    producer = bus.make_producer(settings)
    await producer.start()
    sessions = make_sessions(make_engine(database_url))
    while True:  # a claim may land on buckets with nothing pending; the first batch sent ends the process
        await outbox.relay_batch(sessions, producer, after_send=lambda: os.kill(os.getpid(), signal.SIGKILL))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
