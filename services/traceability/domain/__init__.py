"""Traceability's domain: lots, tags, custody events and their rules; plain Python, no I/O."""

from services.traceability.domain.canonical import GENESIS_HASH, canonical_body, event_hash

__all__ = ["GENESIS_HASH", "canonical_body", "event_hash"]
