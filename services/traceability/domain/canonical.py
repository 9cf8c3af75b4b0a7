"""The canonical form of a custody event's body and its hash, shared by the log writer and the proofs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

GENESIS_HASH = "0" * 64  # prev_hash of the first event (seq 0) of an organisation's log


def canonical_body(obj: Mapping[str, Any]) -> str:
    """The one JSON text of `obj` that every writer and verifier produces: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(body: str) -> str:
    """Hex sha256 of a canonical body's UTF-8 bytes: custody_event.hash."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
