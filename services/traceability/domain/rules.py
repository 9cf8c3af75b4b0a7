"""Custody rules that need no storage: tolerances, mass balance, anomaly identity."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

ANOMALY_NAMESPACE = uuid.UUID("5b0c7f2e-7a53-4c1e-9a51-3e0f8a1d2c44")
MASS_BALANCE_TOLERANCE = 0.005  # outputs may exceed inputs by 0.5 % (scale error), no more
WEIGHT_TOLERANCE = 0.01  # a receiver's weighing may differ from the sender's by 1 %


def anomaly_id(kind: str, cause: str) -> UUID:
    """The same cause gives the same id, so a retried or re-detected anomaly opens one incident, not two."""
    return uuid.uuid5(ANOMALY_NAMESPACE, f"{kind}:{cause}")


@dataclass(frozen=True)
class Anomaly:
    kind: str
    cause: str  # stable key of what happened, e.g. tag_reuse:<tag>
    detail: str
    lot_ids: Sequence[UUID] = field(default_factory=tuple)
    actor_ids: Sequence[UUID] = field(default_factory=tuple)
    site_ids: Sequence[UUID] = field(default_factory=tuple)
    country: str | None = None
    mineral: str | None = None

    @property
    def anomaly_id(self) -> UUID:
        return anomaly_id(self.kind, self.cause)


def exceeds_mass_balance(inputs_kg: float, outputs_kg: float, *, yield_pct: float | None = None) -> bool:
    """Outputs may not outweigh what the inputs could give: all of them, or `yield_pct` of them for processing."""
    available = inputs_kg * (yield_pct / 100 if yield_pct is not None else 1.0)
    return outputs_kg > available * (1 + MASS_BALANCE_TOLERANCE)


def weight_differs(sent_kg: float, received_kg: float) -> bool:
    return abs(received_kg - sent_kg) > sent_kg * WEIGHT_TOLERANCE
