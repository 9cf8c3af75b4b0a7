"""Command line of every service: `python -m services.<name> api|worker|migrate|deadletters|replay-deadletters`."""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

import uvicorn

from libs.common import bus, deadletters, logs, migrations, telemetry, worker
from libs.common.db import engine_for, make_sessions
from libs.common.protocol import HTTP_PROTOCOL
from libs.common.service import Service
from libs.common.settings import ServiceSettings

COMMANDS = ["api", "worker", "migrate", "deadletters", "replay-deadletters"]


def main(service: Service) -> None:
    settings = service.settings()
    parser = argparse.ArgumentParser(prog=f"python -m services.{service.name}")
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=None, help=f"API port (default: {service.name.upper()}_PORT)")
    parser.add_argument("--id", type=int, action="append", dest="ids", help="replay only these dead letters")
    args = parser.parse_args()
    logs.configure(f"{service.name}-{args.command}", settings.log_level)
    if args.command == "migrate":
        migrations.upgrade(service.name, settings.database_url.get_secret_value())
    elif args.command == "api":
        _api(service, settings, host=args.host, port=args.port or settings.api_port)
    elif args.command == "worker":
        asyncio.run(_worker(service, settings))
    else:
        raise SystemExit(
            asyncio.run(_dead_letters(service, settings, replay=args.command == "replay-deadletters", ids=args.ids))
        )


def _api(service: Service, settings: ServiceSettings, *, host: str, port: int) -> None:
    """API_WORKERS uvicorn processes on one socket; each imports create_app and reads the same environment."""
    uvicorn.run(
        service.app_factory,
        factory=True,
        host=host,
        port=port,
        workers=settings.api_workers,
        log_config=_log_config(f"{service.name}-api", settings.log_level),
        access_log=False,
        http=HTTP_PROTOCOL,  # a request uvicorn cannot parse is a 400 problem too
        proxy_headers=False,  # the app applies X-Forwarded-For itself, from FORWARDED_ALLOW_IPS (service.py)
    )


def _log_config(name: str, level: str) -> dict[str, Any]:
    """logs.configure() as a dictConfig: uvicorn applies it in every worker process it starts, as well as here."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "libs.common.logs.JsonFormatter", "service": name}},
        "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
        "root": {"handlers": ["stdout"], "level": level.upper()},
        "loggers": {
            **{n: {"handlers": [], "propagate": True} for n in ("uvicorn", "uvicorn.error", "uvicorn.access")},
            "aiokafka": {"handlers": [], "propagate": True, "level": "WARNING"},
        },
    }


async def _worker(service: Service, settings: ServiceSettings) -> None:
    telemetry.configure(f"{service.name}-worker")  # on when OTEL_EXPORTER_OTLP_ENDPOINT is set
    engine = engine_for(settings)
    stop = asyncio.Event()
    worker.install_signal_handlers(stop)
    try:
        await worker.run_worker(
            settings, make_sessions(engine), handlers=service.handlers, jobs=service.jobs(settings), stop=stop
        )
    finally:
        await engine.dispose()
        telemetry.shutdown()


async def _dead_letters(service: Service, settings: ServiceSettings, *, replay: bool, ids: list[int] | None) -> int:
    """List the pending dead letters, or re-apply them in order (exit status 1 when some still fail)."""
    engine = engine_for(settings)
    try:
        consumer = bus.Consumer(settings, make_sessions(engine), service.handlers)
        if replay:
            result = await deadletters.replay(consumer, ids=ids)
            print(f"replayed {result.replayed}, still failing {result.failed}, no longer handled {result.skipped}")
            return 1 if result.failed else 0
        rows = await deadletters.list_pending(consumer.sessions, consumer=consumer.name)
        for row in rows:
            print(
                f"{row.id}\t{row.failed_at:%Y-%m-%d %H:%M:%S}\t{row.event_type or '-'}\t{row.event_id}\t"
                f"{row.topic}[{row.partition}]@{row.offset}\tattempts={row.attempts}\t{row.error[:200]}"
            )
        print(f"{len(rows)} pending dead letter(s) for consumer {consumer.name}")
        return 0
    finally:
        await engine.dispose()
