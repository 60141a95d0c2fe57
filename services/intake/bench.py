"""`veiviser bench publish`: events/s through the library and through the HTTP intake, next to raw
kafka-python producing the same records (same topics, keys, values and headers) in the same run.

The events come from the simulator (a fresh seed each run, so the intake sees new event ids). Every path
writes to private copies of the event topics (same partition counts), deleted afterwards, so the real
topics get no benchmark data. The intake runs as a real uvicorn server in its own process on 127.0.0.1;
its receipts of the run are removed at the end.

Raw and library alternate over the rounds; each round gives one ratio, and the table shows the median and
the range, the CPU time per event (all threads), and the machine load (the machine is shared). During the
timed rounds the pre-built fixture is frozen out of the garbage collector's view (gc.freeze), for both
paths alike, so the figures do not depend on how many events the fixture holds.
"""

from __future__ import annotations

import contextlib
import gc
import os
import socket
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from events import topics
from events.publisher import PRODUCER_DEFAULTS, Accepted, Prepared, Publisher, prepare
from events.simulator import Simulator, SimulatorConfig

__all__ = ["Figure", "run_publish_bench", "ROUNDS"]

ROUNDS = 5
PARTITIONS = {topics.CASE_EVENTS: 12, topics.OFFICE_STATUS: 3, topics.FIELD_SHIFTS: 3, topics.VISIT_EVENTS: 6,
              topics.DEAD_LETTER: 3}


@dataclass(frozen=True)
class Figure:
    path: str
    events: int
    seconds: float
    cpu_seconds: float | None = None  # the process's CPU time (all threads): less sensitive to other load

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    @property
    def cpu_us(self) -> float | None:
        return None if self.cpu_seconds is None else self.cpu_seconds / self.events * 1e6


def run_publish_bench(settings: Any, count: int, batch_size: int, console: Console, rounds: int = ROUNDS
                      ) -> dict[str, Any]:
    from infra.stack import endpoints

    where = endpoints(settings)
    events = list(Simulator(SimulatorConfig(seed=time.time_ns() % 2**31)).events(count))
    topic_map = _create_topics(where.bootstrap_servers)
    load_before = os.getloadavg()[0]
    try:
        figures = _measure(where, events, topic_map, batch_size, rounds, console)
    finally:
        _delete_topics(where.bootstrap_servers, list(topic_map.values()))
        _forget_receipts(where.database_url, [e["event_id"] for e in events])
    figures["load"] = (load_before, os.getloadavg()[0])
    _report(figures, count, batch_size, rounds, console)
    return figures


def _measure(where, events, topic_map, batch_size, rounds, console) -> dict[str, Any]:
    records = [prepare(e, topic_map=topic_map) for e in events]
    assert all(isinstance(r, Prepared) for r in records), "the simulator produced an invalid event"
    with _fixture_frozen():
        raw, library = _alternate(where, events, records, topic_map, rounds, console)
        with console.status("contract check alone"):
            check = Figure("contract check alone (no send)", len(events),
                           _timed(lambda: [prepare(e, topic_map=topic_map) for e in events]))
    with console.status("HTTP intake (uvicorn on 127.0.0.1)"):
        intake = Figure("HTTP intake", len(events), _intake(where, events, topic_map, batch_size))
    return {"raw": raw, "library": library, "check": check, "intake": intake}


@contextlib.contextmanager
def _fixture_frozen() -> Iterator[None]:
    """The fixture (every event and raw record, built before timing: megabytes of small objects) is moved
    out of the garbage collector's view for the timed rounds, for both paths alike. Otherwise each full
    collection traces the whole fixture, and the figures would depend on --events rather than on the code:
    a producer streams its events, it does not hold them all."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _alternate(where, events, records, topic_map, rounds, console) -> tuple[list[Figure], list[Figure]]:
    """Raw and library alternate (raw first in odd rounds, library first in even ones), so a change of load
    on the machine hits both; each round gives one ratio."""
    raw: list[Figure] = []
    library: list[Figure] = []
    for number in range(1, rounds + 1):
        paths = [("raw kafka-python", raw, lambda: _raw(where.bootstrap_servers, records)),
                 ("library", library, lambda: _library(where.bootstrap_servers, events, topic_map))]
        for label, figures, run in paths if number % 2 else paths[::-1]:
            with console.status(f"round {number}/{rounds}: {label}"):
                figures.append(Figure(label, len(events), *run()))
    return raw, library


def _timed(work: Callable[[], None]) -> float:
    return _timed_cpu(work)[0]


def _timed_cpu(work: Callable[[], None]) -> tuple[float, float]:
    """Wall seconds and the process's CPU seconds (every thread, so the producer's sender thread too)."""
    started, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - started, time.process_time() - cpu


def _raw(bootstrap: str, records: list[Prepared]) -> tuple[float, float]:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, **PRODUCER_DEFAULTS)
    _warm(producer, records)

    def work() -> None:
        for r in records:
            producer.send(r.topic, value=r.value, key=r.key, headers=r.headers)
        producer.flush()

    seconds = _timed_cpu(work)
    producer.close()
    return seconds


def _warm(producer: Any, records: list[Prepared]) -> None:
    for topic in {r.topic for r in records}:
        producer.partitions_for(topic)


def _library(bootstrap: str, events: list[dict], topic_map: dict[str, str]) -> tuple[float, float]:
    publisher = Publisher(bootstrap, topic_map=topic_map)
    _warm(publisher._producer, [prepare(events[0], topic_map=topic_map)] if events else [])
    for topic in topic_map.values():
        publisher._producer.partitions_for(topic)

    def work() -> None:
        for result in publisher.publish_stream(events):
            if not isinstance(result, Accepted):
                raise RuntimeError(f"library bench: not accepted: {result}")

    seconds = _timed_cpu(work)
    publisher.close()
    return seconds


def _intake(where, events: list[dict], topic_map: dict[str, str], batch_size: int) -> float:
    from services.intake.process import IntakeProcess

    token = uuid.uuid4().hex + uuid.uuid4().hex
    with IntakeProcess(where, topic_map, {token: "office-sim"}, _free_port()) as server:
        return server.post_all(events, token, batch_size)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _create_topics(bootstrap: str) -> dict[str, str]:
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    run = uuid.uuid4().hex[:8]
    topic_map = {name: f"bench.{run}.{name}" for name in PARTITIONS}
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(topic_map[n], p, 1) for n, p in PARTITIONS.items()], wait_for_metadata=True)
    finally:
        admin.close()
    return topic_map


def _delete_topics(bootstrap: str, names: list[str]) -> None:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.delete_topics(names)
    finally:
        admin.close()


def _forget_receipts(database_url: str, event_ids: list[str]) -> None:
    import psycopg2

    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM intake_receipts WHERE event_id = ANY(%s::uuid[])", (event_ids,))
    finally:
        conn.close()


def _report(figures: dict[str, Any], count: int, batch_size: int, rounds: int, console: Console) -> None:
    raw_rate = statistics.median(f.rate for f in figures["raw"])
    ratios = [lib.rate / raw.rate for raw, lib in zip(figures["raw"], figures["library"], strict=True)]
    raw_cpu = statistics.median(f.cpu_us for f in figures["raw"])
    lib_cpu = statistics.median(f.cpu_us for f in figures["library"])
    table = Table("path", "events/s", "ratio to raw", "ratio range", "CPU µs/event", "goal",
                  title=f"publish: {count} simulated events; raw and library: median of {rounds} alternating rounds")
    table.add_row("raw kafka-python", f"{raw_rate:,.0f}", "1.00", "", f"{raw_cpu:.0f}", "")
    table.add_row("library (publish_stream)", f"{statistics.median(f.rate for f in figures['library']):,.0f}",
                  f"{statistics.median(ratios):.2f}", f"{min(ratios):.2f}-{max(ratios):.2f}",
                  f"{lib_cpu:.0f} (raw/lib {raw_cpu / lib_cpu:.2f})", ">= 0.80 of raw")
    table.add_row("contract check alone (no send)", f"{figures['check'].rate:,.0f}",
                  f"{figures['check'].rate / raw_rate:.2f}", "", "", "(the library's extra work)")
    table.add_row(f"HTTP intake (batches of {batch_size}, 4 clients)", f"{figures['intake'].rate:,.0f}",
                  f"{figures['intake'].rate / raw_rate:.2f}", "", "", ">= 2,000 events/s")
    console.print(table)
    console.print("raw = kafka-python KafkaProducer.send of the same records (topic, key, value, headers) with "
                  "the same idempotent acks=all settings, then flush. Ratio per round = library / raw of that round. "
                  "CPU = the process's CPU time over all threads (the producer's sender thread included). "
                  "The pre-built fixture is frozen out of the garbage collector's view during the rounds (both paths).")
    before, after = figures["load"]
    console.print(f"machine load (1-minute average) {before:.2f} at the start, {after:.2f} at the end, on "
                  f"{os.cpu_count()} cores shared with other work: figures move with it; compare ratios, not rates.")
