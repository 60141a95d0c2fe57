"""The map's outlines: every municipality and region of the boundary edition, valid, small, borders shared."""

from __future__ import annotations

from datetime import date

import pytest
import shapely

from services.field.outlines import outlines, outlines_json

pytestmark = pytest.mark.unit


def _shapes(collection):
    return [shapely.geometry.shape(f["geometry"]) for f in collection["features"]]


def test_every_municipality_and_region_is_there_valid_and_the_whole_is_small():
    found = outlines(date(2026, 11, 24))
    municipalities, regions = _shapes(found["municipalities"]), _shapes(found["regions"])
    assert found["edition"] == "kommuner-2020" and len(municipalities) == 79
    assert all(shapely.is_valid(municipalities)) and all(shapely.is_valid(regions))
    names = {f["properties"]["code"]: f["properties"]["name"] for f in found["municipalities"]["features"]}
    assert names["1804"] == "Bodø" and names["1806"] == "Narvik"
    assert len(outlines_json(date(2026, 11, 24))) < 400_000  # simplified: the raw file is 900 kB
    # a region is its municipalities dissolved: same area, and neighbours share borders (no gaps or overlaps)
    by_region = {}
    for feature, shape in zip(found["municipalities"]["features"], municipalities, strict=True):
        by_region.setdefault(feature["properties"]["region"], []).append(shape)
    for feature, shape in zip(found["regions"]["features"], regions, strict=True):
        parts = by_region[feature["properties"]["region"]]
        assert shape.area == pytest.approx(sum(p.area for p in parts), rel=1e-3)


def test_an_older_day_gets_the_older_edition():
    assert len(outlines(date(2019, 6, 1))["municipalities"]["features"]) == 92
