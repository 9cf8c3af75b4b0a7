"""HTTP routes of the traceability service, one module per area."""

from __future__ import annotations

from fastapi import APIRouter

from services.traceability.api import actors, lots, public, smelters

routers: list[APIRouter] = [actors.router, lots.router, smelters.router, public.router]
