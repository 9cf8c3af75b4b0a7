"""The traceability worker: outbox relay, consumer of other services' events, scheduled jobs."""
from __future__ import annotations

from libs.common import entry
from services.traceability.handlers import HANDLERS
from services.traceability.jobs import jobs
from services.traceability.main import create_app
from services.traceability.settings import TraceabilitySettings


def main() -> None:
    entry.main(TraceabilitySettings, create_app, handlers=HANDLERS, jobs=jobs, default_port=8003)
