"""Scheduled work of risk scores: none yet (scores move on events; a full recompute is a command)."""

from __future__ import annotations

from collections.abc import Sequence

from libs.common.scheduler import Job
from libs.common.settings import ServiceSettings


def jobs(settings: ServiceSettings) -> Sequence[Job]:
    return ()
