"""The incidents worker: outbox relay, consumer of other services' events, scheduled jobs."""
from __future__ import annotations

from libs.common import entry
from services.incidents.handlers import HANDLERS
from services.incidents.jobs import jobs
from services.incidents.main import create_app
from services.incidents.settings import IncidentsSettings


def main() -> None:
    entry.main(IncidentsSettings, create_app, handlers=HANDLERS, jobs=jobs, default_port=8002)
