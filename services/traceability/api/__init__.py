"""HTTP routes of the traceability service, one module per area."""

from __future__ import annotations

from fastapi import APIRouter

from services.traceability.api import actors, lots, public

routers: list[APIRouter] = [actors.router, lots.router, public.router]
