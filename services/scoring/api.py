"""HTTP routes of the scoring service."""
from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
