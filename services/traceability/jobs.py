"""Scheduled work of the traceability service, run by its worker."""

from __future__ import annotations

from collections.abc import Sequence

from libs.common.scheduler import Job
from libs.common.settings import ServiceSettings


def jobs(settings: ServiceSettings) -> Sequence[Job]:
    return ()
