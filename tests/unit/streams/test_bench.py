"""The pipeline benchmark's own arithmetic and set-up (streams.bench), without running it."""

from __future__ import annotations

import pytest

from events import topics
from infra.topics import load_spec
from streams.bench import percentile, product_partitions

pytestmark = pytest.mark.unit


def test_the_bench_topics_are_partitioned_like_the_products():
    spec = {s.name: s.partitions for s in load_spec()}
    got = product_partitions()
    assert got["cases"] == spec[topics.CASE_EVENTS] and got["visits"] == spec[topics.VISIT_EVENTS]
    assert got["followups"] == spec["veiviser.followups.v1"] and got["dead"] == spec[topics.DEAD_LETTER]
    assert got["cases"] % 2 == 0  # two workers get half of the case partitions each


@pytest.mark.parametrize("q, expected", [(0.0, 0.0), (0.5, 50.0), (0.99, 99.0), (1.0, 100.0)])
def test_percentiles_are_read_from_the_sorted_values(q, expected):
    assert percentile([float(v) for v in range(100, -1, -1)], q) == expected


def test_no_values_have_no_percentile():
    assert percentile([], 0.99) is None
