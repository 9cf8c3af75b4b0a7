"""The scoring worker: outbox relay, consumer of other services' events, scheduled jobs."""
from __future__ import annotations

from libs.common import entry
from services.scoring.handlers import HANDLERS
from services.scoring.jobs import jobs
from services.scoring.main import create_app
from services.scoring.settings import ScoringSettings


def main() -> None:
    entry.main(ScoringSettings, create_app, handlers=HANDLERS, jobs=jobs, default_port=8004)
