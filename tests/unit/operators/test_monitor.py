"""The console's monitor keeps going when a part fails and keeps a series for the charts."""

from __future__ import annotations

import pytest

from services.operators.monitor import Monitor

pytestmark = pytest.mark.unit


def test_a_failing_part_is_reported_and_the_last_good_values_kept():
    calls = {"n": 0}

    def health():
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("broker away")
        return {"status": "OK", "latency": {"p50": 0.4, "p90": float("nan"), "p99": float("inf")}}

    summary = {"open": 2, "last_hour": 1, "open_by_origin": []}
    monitor = Monitor(health, lambda: 0, lambda: summary, interval_s=1, history=3)
    first = monitor.tick()
    assert first["errors"] == {} and first["health"]["latency"] == {"p50": 0.4, "p90": None, "p99": None}
    second = monitor.tick()
    assert second["errors"] == {"health": "ConnectionError: broker away"} and second["health"]["status"] == "OK"
    for _ in range(3):
        monitor.tick()
    series = monitor.snapshot()["series"]
    assert len(series) == 3 and series[-1]["p50"] == 0.4 and series[-1]["open"] == 2
