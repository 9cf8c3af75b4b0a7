"""Explainable risk scores of actors, mine sites and lots, recomputed from the other services' events."""

from services.scoring.risk.api import router
from services.scoring.risk.handlers import HANDLERS
from services.scoring.risk.jobs import jobs

__all__ = ["HANDLERS", "jobs", "router"]
