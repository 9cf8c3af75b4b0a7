"""The kyc worker: outbox relay, consumer of other services' events, scheduled jobs."""
from __future__ import annotations

from libs.common import entry
from services.kyc.handlers import HANDLERS
from services.kyc.jobs import jobs
from services.kyc.main import create_app
from services.kyc.settings import KycSettings


def main() -> None:
    entry.main(KycSettings, create_app, handlers=HANDLERS, jobs=jobs, default_port=8001)
