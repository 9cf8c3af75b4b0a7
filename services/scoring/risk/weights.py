"""The versioned weights of risk scores: a YAML file in weights/, validated on load."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

FOLDER = Path(__file__).parent / "weights"
CURRENT = "v1.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Bands(_Strict):
    medium: float
    high: float
    critical: float


class Incidents(_Strict):
    points_by_level: dict[int, float]
    cap: float


class Assessment(_Strict):
    outcomes: dict[str, float]
    other: float


class ActorWeights(_Strict):
    kyc_status: dict[str, float]
    confirmed_hit: float
    confirmed_hits_cap: float
    licence: dict[str, float]
    licence_expiring_days: int
    area_risk: dict[str, float]
    kyc_risk_level: dict[str, float]


class SiteWeights(_Strict):
    status: dict[str, float]
    area_risk: dict[str, float]
    anomaly: float
    anomalies_cap: float


class LotWeights(_Strict):
    worst: float = Field(ge=0, le=1)
    mean: float = Field(ge=0, le=1)
    max_depth: int = Field(ge=1)


class Weights(_Strict):
    version: str
    bands: Bands
    incidents: Incidents
    assessment: Assessment
    actor: ActorWeights
    site: SiteWeights
    lot: LotWeights


@lru_cache(maxsize=4)
def load(name: str = CURRENT) -> Weights:
    """Raises pydantic.ValidationError naming the place of a problem."""
    return Weights.model_validate(yaml.safe_load((FOLDER / name).read_text(encoding="utf-8")))
