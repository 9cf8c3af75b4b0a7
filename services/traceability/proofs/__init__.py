"""Tamper evidence of the custody log: Merkle checkpoints signed with Ed25519, proofs a smelter verifies offline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from libs.common.scheduler import Job
    from services.traceability.settings import TraceabilitySettings


def jobs(settings: TraceabilitySettings) -> Sequence[Job]:
    from services.traceability.proofs.checkpoints import checkpoint_job

    return (checkpoint_job(settings),)


def __getattr__(name: str) -> Any:
    # The offline verifier (python -m services.traceability.proofs) imports this package: it should not pay for
    # FastAPI and SQLAlchemy, so the routes and the table load only when the service asks for `router`.
    if name == "router":
        from services.traceability.proofs import tables  # noqa: F401  (registers custody_checkpoint)
        from services.traceability.proofs.api import router

        return router
    raise AttributeError(name)


__all__ = ["jobs", "router"]
