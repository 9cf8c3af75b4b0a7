"""Command line of every service: `python -m services.<name> api|worker|migrate`."""
from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Callable, Sequence

import uvicorn
from fastapi import FastAPI

from libs.common import logs, migrations, scheduler, worker
from libs.common.bus import Handlers
from libs.common.db import make_engine, make_sessions
from libs.common.settings import ServiceSettings


def main(settings_cls: type[ServiceSettings], create_app: Callable[[ServiceSettings], FastAPI], *,
         handlers: Handlers, jobs: Callable[[ServiceSettings], Sequence[scheduler.Job]], default_port: int) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m services.{settings_cls().service_name}")
    parser.add_argument("command", choices=["api", "worker", "migrate"])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args()
    settings = settings_cls()
    logs.configure(f"{settings.service_name}-{args.command}", settings.log_level)
    if args.command == "migrate":
        migrations.upgrade(settings.service_name, settings.database_url)
    elif args.command == "api":
        port = args.port or int(os.environ.get(f"{settings.service_name.upper()}_PORT", default_port))
        uvicorn.run(create_app(settings), host=args.host, port=port, log_config=None, access_log=False)
    else:
        asyncio.run(_worker(settings, handlers, jobs(settings)))


async def _worker(settings: ServiceSettings, handlers: Handlers, jobs: Sequence[scheduler.Job]) -> None:
    engine = make_engine(settings.database_url)
    stop = asyncio.Event()
    worker.install_signal_handlers(stop)
    try:
        await worker.run_worker(settings, make_sessions(engine), handlers=handlers, jobs=jobs, stop=stop)
    finally:
        await engine.dispose()
