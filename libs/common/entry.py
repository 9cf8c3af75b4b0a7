"""Command line of every service: `python -m services.<name> api|worker|migrate|deadletters|replay-deadletters`."""
from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Callable, Sequence

import uvicorn
from fastapi import FastAPI

from libs.common import bus, deadletters, logs, migrations, scheduler, worker
from libs.common.bus import Handlers
from libs.common.db import make_engine, make_sessions
from libs.common.settings import ServiceSettings

COMMANDS = ["api", "worker", "migrate", "deadletters", "replay-deadletters"]


def main(settings_cls: type[ServiceSettings], create_app: Callable[[ServiceSettings], FastAPI], *,
         handlers: Handlers, jobs: Callable[[ServiceSettings], Sequence[scheduler.Job]],
         default_port: int | None = None) -> None:
    settings = settings_cls()
    parser = argparse.ArgumentParser(prog=f"python -m services.{settings.service_name}")
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=None, help="API port (default: <SERVICE>_PORT)")
    parser.add_argument("--id", type=int, action="append", dest="ids", help="replay only these dead letters")
    args = parser.parse_args()
    logs.configure(f"{settings.service_name}-{args.command}", settings.log_level)
    if args.command == "migrate":
        migrations.upgrade(settings.service_name, settings.database_url)
    elif args.command == "api":
        port = args.port or settings.api_port
        uvicorn.run(create_app(settings), host=args.host, port=port, log_config=None, access_log=False)
    elif args.command == "worker":
        asyncio.run(_worker(settings, handlers, jobs(settings)))
    else:
        raise SystemExit(asyncio.run(_dead_letters(settings, handlers, replay=args.command == "replay-deadletters",
                                                   ids=args.ids)))


async def _worker(settings: ServiceSettings, handlers: Handlers, jobs: Sequence[scheduler.Job]) -> None:
    engine = make_engine(settings.database_url)
    stop = asyncio.Event()
    worker.install_signal_handlers(stop)
    try:
        await worker.run_worker(settings, make_sessions(engine), handlers=handlers, jobs=jobs, stop=stop)
    finally:
        await engine.dispose()


async def _dead_letters(settings: ServiceSettings, handlers: Handlers, *, replay: bool, ids: list[int] | None) -> int:
    """List the pending dead letters, or re-apply them in order (exit status 1 when some still fail)."""
    engine = make_engine(settings.database_url)
    try:
        consumer = bus.Consumer(settings, make_sessions(engine), handlers)
        if replay:
            result = await deadletters.replay(consumer, ids=ids)
            print(f"replayed {result.replayed}, still failing {result.failed}, no longer handled {result.skipped}")
            return 1 if result.failed else 0
        rows = await deadletters.list_pending(consumer.sessions, consumer=consumer.name)
        for row in rows:
            print(f"{row.id}\t{row.failed_at:%Y-%m-%d %H:%M:%S}\t{row.event_type or '-'}\t{row.event_id}\t"
                  f"{row.topic}[{row.partition}]@{row.offset}\tattempts={row.attempts}\t{row.error[:200]}")
        print(f"{len(rows)} pending dead letter(s) for consumer {consumer.name}")
        return 0
    finally:
        await engine.dispose()
