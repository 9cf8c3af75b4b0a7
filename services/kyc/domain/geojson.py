"""GeoJSON geometry of a mine site (Point, Polygon, MultiPolygon): shape, ranges, closed rings, validity."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.validation import explain_validity

from libs.common.errors import Invalid

GEOMETRY_TYPES = ("Point", "Polygon", "MultiPolygon")
MAX_POSITIONS = 20_000  # a site boundary, not a country outline; bounds the validation work per request

Position = list[float]


class GeometryError(ValueError):
    """Why a value is not an acceptable site geometry; turned into one `invalid_geojson` problem."""


@dataclass
class _Walk:
    """What the checks have seen so far: how many positions, and their dimension (2 or 3, never mixed)."""

    positions: int = 0
    dimensions: int | None = None


def geometry(value: Any) -> dict[str, Any]:
    """A checked and normalised GeoJSON geometry (only `type` and `coordinates` kept), or Invalid."""
    try:
        normalised = _parse(value)
        _check_valid(normalised)
    except GeometryError as exc:
        raise Invalid(f"invalid GeoJSON: {exc}", code="invalid_geojson", reason=str(exc)) from exc
    return normalised


def _parse(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise GeometryError("the location must be a GeoJSON geometry object")
    kind = value.get("type")
    if kind not in GEOMETRY_TYPES:
        raise GeometryError(f"type must be one of {', '.join(GEOMETRY_TYPES)}, not {kind!r}")
    if "coordinates" not in value:
        raise GeometryError("coordinates are missing")
    coordinates = value["coordinates"]
    walk = _Walk()
    if kind == "Point":
        return {"type": kind, "coordinates": _position(coordinates, "coordinates", walk)}
    if kind == "Polygon":
        return {"type": kind, "coordinates": _polygon(coordinates, "coordinates", walk)}
    polygons = _non_empty_list(coordinates, "coordinates", "a MultiPolygon needs at least one polygon")
    return {"type": kind, "coordinates": [_polygon(p, f"coordinates[{i}]", walk) for i, p in enumerate(polygons)]}


def _non_empty_list(value: Any, where: str, empty_message: str) -> list[Any]:
    if not isinstance(value, list):
        raise GeometryError(f"{where} must be an array")
    if not value:
        raise GeometryError(f"{where}: {empty_message} (empty geometry)")
    return value


def _polygon(value: Any, where: str, walk: _Walk) -> list[list[Position]]:
    rings = _non_empty_list(value, where, "a polygon needs an exterior ring")
    return [_ring(ring, f"{where}[{i}]", walk) for i, ring in enumerate(rings)]


def _ring(value: Any, where: str, walk: _Walk) -> list[Position]:
    positions = _non_empty_list(value, where, "a linear ring needs positions")
    ring = [_position(p, f"{where}[{i}]", walk) for i, p in enumerate(positions)]
    if len(ring) < 4:
        raise GeometryError(f"{where}: a linear ring needs at least 4 positions, got {len(ring)}")
    if ring[0] != ring[-1]:
        raise GeometryError(f"{where}: the ring is not closed (first and last positions differ)")
    return ring


def _position(value: Any, where: str, walk: _Walk) -> Position:
    walk.positions += 1
    if walk.positions > MAX_POSITIONS:
        raise GeometryError(f"more than {MAX_POSITIONS} positions")
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise GeometryError(f"{where} must be a position [longitude, latitude] (optionally with altitude)")
    if walk.dimensions not in (None, len(value)):
        raise GeometryError(f"{where}: positions mix 2 and 3 coordinates")
    walk.dimensions = len(value)
    if not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in value):
        raise GeometryError(f"{where}: a position holds numbers only")
    numbers = [float(n) for n in value]
    if not all(math.isfinite(n) for n in numbers):
        raise GeometryError(f"{where}: coordinates must be finite numbers")
    longitude, latitude = numbers[0], numbers[1]
    if not -180.0 <= longitude <= 180.0:
        raise GeometryError(f"{where}: longitude {longitude} is outside -180..180")
    if not -90.0 <= latitude <= 90.0:
        raise GeometryError(f"{where}: latitude {latitude} is outside -90..90")
    return numbers


def _check_valid(value: dict[str, Any]) -> None:
    if value["type"] == "Point":
        return
    geom = shape(value)
    if geom.is_empty:
        raise GeometryError("empty geometry")
    if not geom.is_valid:
        raise GeometryError(f"the {value['type']} is not valid: {explain_validity(geom)}")
    if shapely.area(geom) == 0.0:
        raise GeometryError(f"the {value['type']} has no area")


def representative_point(value: dict[str, Any] | None) -> dict[str, float | None]:
    """`latitude` and `longitude` of a checked geometry: a Point's own position, else a point shapely guarantees
    inside the (multi)polygon (representative_point, not the centroid, which may fall outside a concave boundary);
    rounded to 6 decimals (about 0.1 m). None for both when there is no location."""
    if not value:
        return {"latitude": None, "longitude": None}
    if value.get("type") == "Point":
        longitude, latitude = value["coordinates"][0], value["coordinates"][1]
    else:
        point = shape(value).representative_point()
        longitude, latitude = point.x, point.y
    return {"latitude": round(float(latitude), 6), "longitude": round(float(longitude), 6)}
