"""HTTP routes of the incidents service."""
from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
