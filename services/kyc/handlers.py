"""Reactions of the kyc service to other services' events."""

from __future__ import annotations

from libs.common.bus import Handlers

HANDLERS: Handlers = {}
