"""`veiviser bench pipeline`: publish -> router worker -> stored decision, against raw Kafka consume.

On private topics (partitioned as infra/topics.yaml partitions the product's) and a private consumer group
(deleted afterwards), `--workers` `veiviser worker router` processes:
1. full speed: N simulated events published as fast as the publishing library goes; end-to-end events/s is
   case events / (first publish -> last event recorded in the ledger);
2. fixed rate: events published at R/s (a chunk every 10 ms, sent within 10 ms, by the same warm publisher;
   it does not wait for each chunk's acknowledgements: that cost ~40 % of a core at 1,000/s, CPU the workers need);
   latency p50/p99 per routed event, from the event's publish time
   (Kafka timestamp of the case event) to its decision committed (Kafka timestamp of its follow-up, which
   the worker sends right after the ledger commit);
3. baselines in the same run, on the same case-event messages: kafka-python consuming them (raw), and a faust
   worker taking them through the router's batching path with an agent that does nothing (the framework's
   floor, streams.floor): no pipeline built on faust-streaming here can be faster than that.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2

from events import topics
from events.publisher import Publisher
from events.simulator import Simulator, SimulatorConfig, paced
from streams.app import FOLLOWUPS

__all__ = ["PipelineFigures", "run_pipeline_bench"]

VEIVISER = Path(sys.executable).parent / "veiviser"
POLL_S = 0.1  # how often the ledger is asked how far the workers got (the full-speed clock's resolution)
PACED_DELAY_S = 0.01  # at the fixed rate an event waits at most this long in the publisher before it is sent


@dataclass
class PipelineFigures:
    full_events: int
    full_seconds: float
    publish_seconds: float
    rate: float
    rate_events: int
    rate_seconds: float
    rate_latencies_ms: list[float]
    full_latencies_ms: list[float]
    raw_messages: int
    raw_seconds: float
    faust_messages: int = 0
    faust_seconds: float = 0.0
    faust_cpu_s: float = 0.0  # CPU seconds of the faust floor (all its threads)
    worker_cpu_s: float = 0.0  # CPU seconds the workers spent in the full-speed run (user + system)
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)  # the machine's load average when the run ended

    @property
    def end_to_end(self) -> float:
        return self.full_events / self.full_seconds

    @property
    def raw_rate(self) -> float:
        return self.raw_messages / self.raw_seconds

    @property
    def faust_rate(self) -> float:
        return self.faust_messages / self.faust_seconds if self.faust_seconds else 0.0


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


@dataclass
class _Bench:
    bootstrap_servers: str
    database_url: str
    run_dir: Path
    say: Callable[[str], None]
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    settle_s: float = 10.0
    publisher: Publisher | None = None
    conn: Any = None  # the polling connection (psycopg2)

    def __post_init__(self) -> None:
        self.names = {k: f"bench.{k}.{self.suffix}" for k in ("cases", "visits", "offices", "followups", "dead")}
        self.group = f"bench-router-{self.suffix}"

    def create_topics(self) -> None:
        from kafka.admin import KafkaAdminClient, NewTopic

        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
        specs = {k: (partitions, {}) for k, partitions in product_partitions().items()}
        specs["offices"] = (1, {"cleanup.policy": "compact"})
        admin.create_topics([NewTopic(self.names[k], p, 1, topic_configs=c) for k, (p, c) in specs.items()])
        admin.close()

    def delete_topics(self) -> None:
        from kafka.admin import KafkaAdminClient

        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
        admin.delete_topics(list(self.names.values()))
        admin.close()

    def start_worker(self, index: int = 0) -> subprocess.Popen:
        env = {**os.environ, "VEIVISER_STREAMS_GROUP": self.group, "VEIVISER_STREAMS_LEDGER_CONSUMER": self.group,
               "VEIVISER_STREAMS_CASE_EVENTS_TOPIC": self.names["cases"],
               "VEIVISER_STREAMS_VISIT_EVENTS_TOPIC": self.names["visits"],
               "VEIVISER_STREAMS_OFFICE_STATUS_TOPIC": self.names["offices"],
               "VEIVISER_STREAMS_FOLLOWUPS_TOPIC": self.names["followups"],
               "VEIVISER_STREAMS_DEAD_LETTER_TOPIC": self.names["dead"]}
        self.log = self.run_dir / f"bench-{self.group}-{index}.log"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        return subprocess.Popen([str(VEIVISER), "worker", "router", "--loglevel", "info"], env=env,
                                stdout=self.log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)

    def events(self, count: int) -> list[dict]:
        wanted = {topics.CASE_EVENTS, topics.OFFICE_STATUS}
        sim = Simulator(SimulatorConfig(seed=random.randrange(10**6, 10**9)))
        return [e for e in sim.events(count) if topics.ROUTES[e["event_name"]].topic in wanted]

    def publish(self, events: list[dict], rate: float | None = None) -> None:
        """One publisher for the whole benchmark: connected and warm before the fixed-rate run starts (a new
        one's first sends wait for metadata, and pacing then sends a burst that shows as latency)."""
        if self.publisher is None:
            mapping = {topics.CASE_EVENTS: self.names["cases"], topics.OFFICE_STATUS: self.names["offices"]}
            self.publisher = Publisher(self.bootstrap_servers, topic_map=mapping)
        if rate is None:
            for _ in self.publisher.publish_stream(events):
                pass
            return
        size = max(1, int(rate / 100))  # a chunk every 10 ms, sent within 10 ms, acknowledgements not awaited
        chunks = [events[i:i + size] for i in range(0, len(events), size)]
        timed = (event for chunk in paced(chunks, rate / size) for event in chunk)
        for _ in self.publisher.publish_stream(timed, max_delay_s=PACED_DELAY_S):
            pass

    def processed(self) -> int:
        """Events the workers recorded so far, on one connection kept for the run (a new connection per poll
        would start a database backend 10 times a second beside the workers)."""
        if self.conn is None or self.conn.closed:
            self.conn = psycopg2.connect(self.database_url)
            self.conn.autocommit = True
        with self.conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM streams_processed_events WHERE consumer = %s", (self.group,))
            return cur.fetchone()[0]

    def wait_processed(self, count: int, workers: list[subprocess.Popen], timeout_s: float = 600) -> float:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.processed() >= count:
                return time.perf_counter()
            stopped = [w for w in workers if w.poll() is not None]
            if stopped:
                raise RuntimeError(f"a worker stopped (exit {stopped[0].returncode}); see {self.run_dir}")
            time.sleep(POLL_S)
        raise RuntimeError(f"not all {count} events were processed in {timeout_s} s; see {self.log}")

    def read(self, topic: str) -> tuple[list, float]:
        from kafka import KafkaConsumer

        consumer = KafkaConsumer(topic, bootstrap_servers=self.bootstrap_servers, auto_offset_reset="earliest",
                                 consumer_timeout_ms=2000, fetch_max_bytes=52428800)
        started, got, last = time.perf_counter(), [], time.perf_counter()
        for message in consumer:
            got.append(message)
            last = time.perf_counter()
        consumer.close()
        return got, last - started

    def faust_floor(self, count: int) -> tuple[int, float, float]:
        """(messages, seconds, CPU seconds) of streams.floor taking `count` case events, in a group of its own."""
        group = f"bench-floor-{self.suffix}"
        argv = [sys.executable, "-m", "streams.floor", self.bootstrap_servers, self.names["cases"], group, str(count),
                str(self.run_dir / group)]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        finally:
            shutil.rmtree(self.run_dir / group, ignore_errors=True)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"the faust floor failed (exit {done.returncode}): {done.stderr.strip()[-800:]}")
        figures = json.loads(lines[-1])
        return figures["messages"], figures["seconds"], figures["cpu_s"]


def product_partitions() -> dict[str, int]:
    """The partitions of the product's topics (infra/topics.yaml), so that the benchmark's workers share the
    load as deployed workers do (the benchmark once used 3 partitions, which 2 workers split 2:1)."""
    from infra.topics import load_spec

    found = {spec.name: spec.partitions for spec in load_spec()}
    wanted = {"cases": topics.CASE_EVENTS, "visits": topics.VISIT_EVENTS, "followups": FOLLOWUPS,
              "dead": topics.DEAD_LETTER}
    return {key: found[name] for key, name in wanted.items()}


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc), 0.0 when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _case_count(events: list[dict]) -> int:
    return sum(1 for e in events if topics.ROUTES[e["event_name"]].topic == topics.CASE_EVENTS)


def _latencies(cases: list, followups: list, event_ids: set[str]) -> list[float]:
    published = {}
    for message in cases:
        event_id = json.loads(message.value).get("event_id")
        if event_id in event_ids:
            published[event_id] = message.timestamp
    out = []
    for message in followups:
        cause = json.loads(message.value)["causation_id"]
        if cause in published:
            out.append(float(message.timestamp - published[cause]))
    return out


def run_pipeline_bench(bootstrap_servers: str, database_url: str, run_dir: Path, count: int, rate: float,
                       rate_seconds: float, say: Callable[[str], None] = print, workers: int = 1) -> PipelineFigures:
    bench = _Bench(bootstrap_servers, database_url, run_dir, say)
    bench.create_topics()
    started = [bench.start_worker(i) for i in range(workers)]
    try:
        return _measure(bench, started, count, rate, rate_seconds)
    finally:
        for worker in started:
            worker.send_signal(signal.SIGTERM)
        for worker in started:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        try:
            if bench.publisher is not None:
                bench.publisher.close()
            if bench.conn is not None:
                bench.conn.close()
        finally:
            bench.delete_topics()
        shutil.rmtree(run_dir / bench.group, ignore_errors=True)  # the workers' faust data dir (logs stay)


def _measure(bench: _Bench, worker: list[subprocess.Popen], count: int, rate: float, rate_seconds: float):
    warm = bench.events(50)
    bench.say("warming up the worker ...")
    bench.publish(warm)
    done = _case_count(warm)
    bench.wait_processed(done, worker, timeout_s=180)
    if len(worker) > 1:  # every worker must hold partitions before the clock starts
        time.sleep(bench.settle_s)
    full = bench.events(count)
    bench.say(f"full speed: {len(full)} events ...")
    cpu_before = sum(cpu_seconds(w.pid) for w in worker)
    started = time.perf_counter()
    bench.publish(full)
    published = time.perf_counter()
    done += _case_count(full)
    finished = bench.wait_processed(done, worker)
    worker_cpu = sum(cpu_seconds(w.pid) for w in worker) - cpu_before
    fixed = bench.events(int(rate * rate_seconds))
    bench.say(f"fixed rate: {len(fixed)} events at {rate:.0f}/s ...")
    rate_started = time.perf_counter()
    bench.publish(fixed, rate)
    done += _case_count(fixed)
    bench.wait_processed(done, worker)
    rate_elapsed = time.perf_counter() - rate_started
    bench.say("raw consume baseline and latencies ...")
    cases, raw_seconds = bench.read(bench.names["cases"])
    followups, _ = bench.read(bench.names["followups"])
    bench.say("faust floor: the same messages through faust, no work ...")
    floor = bench.faust_floor(len(cases))
    ids = lambda evs: {e["event_id"] for e in evs}  # noqa: E731
    return PipelineFigures(_case_count(full), finished - started, published - started, rate, len(fixed),
                           rate_elapsed, _latencies(cases, followups, ids(fixed)),
                           _latencies(cases, followups, ids(full)), len(cases), raw_seconds, *floor, worker_cpu,
                           os.getloadavg())


def summary(figures: PipelineFigures) -> list[tuple[str, str]]:
    p = lambda values, q: f"{percentile(values, q):.0f} ms" if values else "-"  # noqa: E731
    return [
        ("end to end, full speed", f"{figures.end_to_end:,.0f} events/s ({figures.full_events} case events in "
                                   f"{figures.full_seconds:.2f} s; publishing alone {figures.publish_seconds:.2f} s)"),
        ("raw kafka-python consume", f"{figures.raw_rate:,.0f} messages/s ({figures.raw_messages} messages)"),
        ("ratio end to end / raw", f"{figures.end_to_end / figures.raw_rate:.3f}"),
        ("faust-streaming consume, no work (floor)", f"{figures.faust_rate:,.0f} messages/s, "
                                                     f"{figures.faust_cpu_s / max(1, figures.faust_messages) * 1e6:,.0f}"
                                                     f" µs CPU each ({figures.faust_messages} messages)"),
        ("ratio end to end / faust floor", f"{figures.end_to_end / figures.faust_rate:.3f}" if figures.faust_rate
         else "-"),
        ("worker CPU per case event", f"{figures.worker_cpu_s / figures.full_events * 1e6:,.0f} µs "
                                      f"(all workers, full-speed run)"),
        (f"latency at {figures.rate:.0f}/s p50", p(figures.rate_latencies_ms, 0.5)),
        (f"latency at {figures.rate:.0f}/s p99", p(figures.rate_latencies_ms, 0.99)),
        ("latency at full speed p50 / p99", f"{p(figures.full_latencies_ms, 0.5)} / {p(figures.full_latencies_ms, 0.99)}"),
        ("routed events measured", f"{len(figures.rate_latencies_ms)} at fixed rate, "
                                   f"{len(figures.full_latencies_ms)} at full speed"),
        ("mean latency at fixed rate", f"{statistics.fmean(figures.rate_latencies_ms):.0f} ms"
         if figures.rate_latencies_ms else "-"),
        ("machine load average (1, 5, 15 min)", ", ".join(f"{v:.2f}" for v in figures.load)),
    ]
