"""Partner webhooks: subscriptions, tiered projections, signed deliveries driven by `incidents.events`."""

from services.incidents.webhooks.api import router
from services.incidents.webhooks.handlers import HANDLERS
from services.incidents.webhooks.jobs import jobs

__all__ = ["HANDLERS", "jobs", "router"]
