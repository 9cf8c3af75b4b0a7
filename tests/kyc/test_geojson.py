"""Site geometry checks: what GeoJSON is accepted, and the reason given for what is not."""

from __future__ import annotations

import pytest

from libs.common.errors import Invalid
from services.kyc.domain import geojson

SQUARE = [[28.0, -3.0], [28.1, -3.0], [28.1, -2.9], [28.0, -2.9], [28.0, -3.0]]
HOLE = [[28.02, -2.98], [28.04, -2.98], [28.04, -2.96], [28.02, -2.98]]


def reason(value) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(Invalid) as refused:
        geojson.geometry(value)
    assert refused.value.code == "invalid_geojson"
    return refused.value.extra["reason"]


def test_a_point_a_polygon_with_a_hole_and_a_multipolygon_are_accepted():
    assert geojson.geometry({"type": "Point", "coordinates": [28.86, -2.49]}) == {
        "type": "Point",
        "coordinates": [28.86, -2.49],
    }
    assert geojson.geometry({"type": "Polygon", "coordinates": [SQUARE, HOLE]})["type"] == "Polygon"
    assert geojson.geometry({"type": "MultiPolygon", "coordinates": [[SQUARE]]})["type"] == "MultiPolygon"


def test_only_type_and_coordinates_are_kept():
    value = {"type": "Point", "coordinates": [1, 2, 1500], "bbox": [0, 0, 1, 1], "crs": "x"}

    assert geojson.geometry(value) == {"type": "Point", "coordinates": [1.0, 2.0, 1500.0]}


@pytest.mark.parametrize(
    "value, expected",
    [
        ("Point(1 2)", "must be a GeoJSON geometry object"),
        ({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, "type must be one of"),
        ({"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]}}, "type must be one of"),
        ({"type": "Point"}, "coordinates are missing"),
        ({"type": "Point", "coordinates": [1]}, "must be a position"),
        ({"type": "Point", "coordinates": ["28", "-2"]}, "numbers only"),
        ({"type": "Point", "coordinates": [True, 1]}, "numbers only"),
        ({"type": "Point", "coordinates": [181, 0]}, "longitude 181.0 is outside -180..180"),
        ({"type": "Point", "coordinates": [0, -90.5]}, "latitude -90.5 is outside -90..90"),
        ({"type": "Point", "coordinates": [float("nan"), 0]}, "finite"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0, 5], [1, 1], [0, 0]]]}, "mix 2 and 3"),
        ({"type": "Polygon", "coordinates": []}, "empty geometry"),
        ({"type": "Polygon", "coordinates": [[]]}, "empty geometry"),
        ({"type": "MultiPolygon", "coordinates": []}, "empty geometry"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, "at least 4 positions"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "not closed"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, "Self-intersection"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [2, 0], [0, 0]]]}, "not valid"),
        ({"type": "MultiPolygon", "coordinates": [[SQUARE], [SQUARE]]}, "not valid"),
    ],
)
def test_invalid_geojson_is_refused_with_a_reason(value, expected):  # type: ignore[no-untyped-def]
    assert expected in reason(value)


def test_a_huge_geometry_is_refused_before_any_geometry_work():
    ring = [[0.0, 0.0]] + [[0.0001 * i, 1.0] for i in range(geojson.MAX_POSITIONS)] + [[0.0, 0.0]]

    assert "more than" in reason({"type": "Polygon", "coordinates": [ring]})
