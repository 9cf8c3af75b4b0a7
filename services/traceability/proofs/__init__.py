"""Tamper evidence of the custody log: Merkle checkpoints signed with Ed25519, proofs a smelter verifies offline."""

from __future__ import annotations

from collections.abc import Sequence

from libs.common.scheduler import Job
from services.traceability.proofs import tables  # noqa: F401  (registers custody_checkpoint)
from services.traceability.proofs.api import router
from services.traceability.settings import TraceabilitySettings


def jobs(settings: TraceabilitySettings) -> Sequence[Job]:
    from services.traceability.proofs.checkpoints import checkpoint_job

    return (checkpoint_job(settings),)


__all__ = ["jobs", "router"]
