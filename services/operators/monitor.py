"""The console's background loop: a health sample and a dead-letter index sync every few seconds.

The dashboard polls the newest snapshot; nothing a page asks for waits for the broker. A failing sample
is kept as the snapshot's error (shown on the page) and the loop goes on. The health report carries its
own window of lag and throughput points; the monitor adds a longer series of what the report only has as
a current value (latency percentiles, open dead letters) for the dashboard's charts.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from services.operators import metrics

__all__ = ["Monitor"]

log = logging.getLogger("veiviser.operators")


class Monitor:
    def __init__(self, health: Callable[[], dict[str, Any]] | None, sync: Callable[[], Any] | None,
                 summary: Callable[[], dict[str, Any]] | None, interval_s: float = 5.0, history: int = 120):
        self._health, self._sync, self._summary, self.interval_s = health, sync, summary, interval_s
        self._series: deque[dict[str, Any]] = deque(maxlen=history)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._snapshot: dict[str, Any] = {"taken_at": None, "health": None, "dead_letters": None, "errors": {}}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="operators-monitor", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {**self._snapshot, "series": list(self._series)}

    def _run(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            self.tick()
            self._stop.wait(max(0.0, self.interval_s - (time.monotonic() - began)))

    def tick(self) -> dict[str, Any]:
        """Take one sample now (the loop calls this; tests may too)."""
        with metrics.SAMPLE_SECONDS.time():
            errors: dict[str, str] = {}
            health = _finite(self._step("health", self._health, errors))
            self._step("index", self._sync, errors)
            dead = self._step("dead_letters", self._summary, errors)
        if dead:
            metrics.set_open(dead["open_by_origin"])
        now = time.time()
        with self._lock:
            previous = self._snapshot
            self._snapshot = {"taken_at": now, "health": health if health is not None else previous["health"],
                              "dead_letters": dead if dead is not None else previous["dead_letters"], "errors": errors}
            self._series.append(_point(now, health, dead))
            return {**self._snapshot, "series": list(self._series)}

    @staticmethod
    def _step(name: str, work: Callable[[], Any] | None, errors: dict[str, str]) -> Any:
        if work is None:
            return None
        try:
            return work()
        except Exception as exc:  # noqa: BLE001 - the loop must go on; the page shows what failed
            log.warning("operators monitor: %s failed: %s: %s", name, type(exc).__name__, exc)
            errors[name] = f"{type(exc).__name__}: {exc}"[:500]
            return None


def _point(at: float, health: dict[str, Any] | None, dead: dict[str, Any] | None) -> dict[str, Any]:
    """One point of the monitor's own series: latency percentiles (seconds) and open dead letters."""
    latency = (health or {}).get("latency") or {}
    return {"at": at, "p50": latency.get("p50"), "p90": latency.get("p90"), "p99": latency.get("p99"),
            "open": (dead or {}).get("open"), "last_hour": (dead or {}).get("last_hour")}


def _finite(value: Any) -> Any:
    """The report with NaN and infinities as None (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
