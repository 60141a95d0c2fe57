"""Read the real cluster (kafka-python's admin client) and keep a sliding window of samples: the Sampler.

    sampler = Sampler(bootstrap_servers, database_url, load_health_settings())
    sampler.start(on_report=callback)     # samples every interval_s in a thread; sampler.latest() meanwhile
    report = sampler.latest()             # HealthReport (None before the first sample)
    sampler.close()

    report = sampler.tick()               # or: your own loop - sample now and report (report.to_dict())
    report = check(bootstrap_servers, database_url, settings, samples=5, interval_s=2.0)   # one short window

One sample reads: the watched consumer groups (list, describe, committed offsets), the log end offsets of
their partitions and of the watched topics, the timestamp of each lagging partition's oldest unread message,
the brokers (describe_cluster), the KRaft quorum leader, every topic's replicas (under-replicated and
offline partitions), and the dead-letter topic (retained count; the newest dead letters' headers, re-read
only when new ones arrived). The ledger's end-to-end latency is read at most every `LATENCY_EVERY_S`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import OffsetSpec
from kafka.errors import KafkaError

from streams.health.errors import ClusterUnreachable
from streams.health.latency import pipeline_latency
from streams.health.report import (
    BrokerHealth,
    ClusterHealth,
    ControllerHealth,
    DeadLetter,
    HealthReport,
    LatencySummary,
    ReplicaProblem,
)
from streams.health.settings import HealthSettings, load_health_settings
from streams.health.window import TP, GroupView, Snapshot, Window

__all__ = ["Sampler", "KafkaReader", "check", "cluster_health", "LATENCY_EVERY_S"]

log = logging.getLogger("veiviser.health")
# faust workers join their groups with faust's own assignor metadata, which kafka-python cannot decode: it
# warns with the whole binary blob at every sample. Harmless for us (members are counted, not decoded).
logging.getLogger("kafka.admin._groups").setLevel(logging.ERROR)
LATENCY_EVERY_S = 30.0
READ_WAIT_S = 2.0
BOOTSTRAP_TIMEOUT_MS = 8_000


class KafkaReader:
    """One admin client and one group-less consumer (for message timestamps and dead-letter headers)."""

    def __init__(self, bootstrap_servers: str, settings: HealthSettings, client_id: str = "veiviser-health"):
        self.settings = settings
        try:
            self.admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id=client_id,
                                          request_timeout_ms=10_000, bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS)
            self.consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, client_id=client_id, group_id=None,
                                          enable_auto_commit=False, request_timeout_ms=10_000)
        except (KafkaError, OSError) as exc:
            raise ClusterUnreachable(f"Kafka at {bootstrap_servers} does not answer ({exc!r}); start the stack "
                                     "with `veiviser up` or set VEIVISER_BOOTSTRAP_SERVERS") from None
        self._known_brokers: set[int] = set()
        self._timestamps: dict[tuple[TP, int], float] = {}
        self._dead_end: int | None = None
        self._dead_newest: tuple[DeadLetter, ...] = ()

    def close(self) -> None:
        self.consumer.close()
        self.admin.close()

    def snapshot(self, at: float) -> Snapshot:
        problems: list[str] = []
        metadata = [t for t in self.admin.describe_topics() if not t.get("error_code")]
        partitions = {t["name"]: sorted(p["partition_index"] for p in t["partitions"]) for t in metadata}
        cluster = self._cluster(metadata, problems)
        unreadable: dict[str, str] = {}
        groups = self._groups(unreadable)
        consumed = {tp[0] for view in groups for tp in view.offsets}
        topics = sorted({t for t in partitions if not t.startswith("__") and self.settings.shows_topic(t)} | consumed)
        dead = self.settings.dead_letter_topic
        wanted = [(t, p) for t in {*topics, dead} if t in partitions for p in partitions[t]]
        ends = self._offsets(wanted, OffsetSpec.LATEST)
        oldest = self._oldest_unread(groups, ends) if self.settings.read_timestamps else {}
        total, dead_end = self._dead_letter_counts(dead, partitions.get(dead), ends)
        return Snapshot(at=at, groups=groups, end_offsets=ends, topics=tuple(t for t in topics if t in partitions),
                        cluster=cluster, oldest_unread=oldest, dead_letter_topic=dead, dead_letter_total=total,
                        dead_letter_end=dead_end, dead_letters_newest=self._newest_dead(dead, partitions, ends),
                        problems=tuple(problems), unreadable=unreadable)

    # -- groups -------------------------------------------------------------------------------------------
    def _groups(self, unreadable: dict[str, str]) -> tuple[GroupView, ...]:
        """The watched groups; one that cannot be read goes into `unreadable` (the report shows it WARN or ERR)."""
        ids = sorted(g["group_id"] for g in self.admin.list_groups() if self.settings.watches(g["group_id"]))
        if not ids:
            return ()
        try:  # one request per coordinator for all groups
            described, offsets = self.admin.describe_groups(ids), self.admin.list_group_offsets(ids)
            return tuple(_view(group, described[group], offsets.get(group, {})) for group in ids)
        except KafkaError:  # a group went away or errs: read them one by one, keep the others
            pass
        views = []
        for group in ids:
            try:
                views.append(_view(group, self.admin.describe_groups([group])[group],
                                   self.admin.list_group_offsets([group]).get(group, {})))
            except KafkaError as exc:
                unreadable[group] = repr(exc)
        return tuple(views)

    # -- offsets and messages ---------------------------------------------------------------------------
    def _offsets(self, tps: Iterable[TP], spec: Any) -> dict[TP, int]:
        asked = {TopicPartition(t, p): spec for t, p in tps}
        if not asked:
            return {}
        found = self.admin.list_partition_offsets(asked)
        return {(tp.topic, tp.partition): value.offset for tp, value in found.items()}

    def _oldest_unread(self, groups: tuple[GroupView, ...], ends: dict[TP, int]) -> dict[tuple[str, TP], float]:
        """Timestamp of the first unread message of every lagging partition (cached per committed offset)."""
        lagging = {(v.group, tp): off for v in groups for tp, off in v.offsets.items() if ends.get(tp, off) > off}
        wanted = {(tp, off) for (_, tp), off in lagging.items()} - set(self._timestamps)
        while wanted:  # one offset per partition per read (two groups may lag at different offsets)
            batch = dict(sorted(wanted))
            for tp, records in self._read(batch, {tp: off + 1 for tp, off in batch.items()}).items():
                if records:
                    self._timestamps[(tp, batch[tp])] = records[0].timestamp / 1000
            wanted -= set(batch.items())
        current = {(tp, off) for (_, tp), off in lagging.items()}
        self._timestamps = {key: ts for key, ts in self._timestamps.items() if key in current}
        return {key: self._timestamps[(key[1], off)] for key, off in lagging.items() if (key[1], off) in self._timestamps}

    def _read(self, starts: dict[TP, int], stops: dict[TP, int]) -> dict[TP, list[Any]]:
        """Records [start, stop) of each partition, within READ_WAIT_S (fewer if the broker is slow)."""
        tps = {TopicPartition(*tp): tp for tp in starts}
        self.consumer.assign(list(tps))
        for tp, key in tps.items():
            self.consumer.seek(tp, starts[key])
        got: dict[TP, list[Any]] = {key: [] for key in starts}
        pending = set(tps)
        deadline = time.monotonic() + READ_WAIT_S
        while pending and time.monotonic() < deadline:
            for tp, records in self.consumer.poll(timeout_ms=200).items():
                key = tps[tp]
                got[key] += [r for r in records if r.offset < stops[key] or not got[key]]
            pending = {tp for tp in pending if self.consumer.position(tp) < stops[tps[tp]]}
            self.consumer.pause(*(set(tps) - pending))
        self.consumer.assign([])
        return got

    # -- dead letters -----------------------------------------------------------------------------------
    def _dead_letter_counts(self, topic: str, partitions: list[int] | None,
                            ends: dict[TP, int]) -> tuple[int | None, int | None]:
        if partitions is None:
            return None, None
        begins = self._offsets([(topic, p) for p in partitions], OffsetSpec.EARLIEST)
        end = sum(ends[(topic, p)] for p in partitions)
        return end - sum(begins.values()), end

    def _newest_dead(self, topic: str, partitions: dict[str, list[int]], ends: dict[TP, int]) -> tuple[DeadLetter, ...]:
        want = self.settings.dead_letter_newest
        if topic not in partitions or not want:
            return ()
        end = sum(ends[(topic, p)] for p in partitions[topic])
        if end == self._dead_end:
            return self._dead_newest
        stops = {(topic, p): ends[(topic, p)] for p in partitions[topic]}
        starts = {tp: max(0, stop - want) for tp, stop in stops.items()}
        begins = self._offsets(starts, OffsetSpec.EARLIEST)
        starts = {tp: max(start, begins.get(tp, 0)) for tp, start in starts.items() if stops[tp] > begins.get(tp, 0)}
        records = [r for rs in self._read(starts, stops).values() for r in rs] if starts else []
        records.sort(key=lambda r: (r.timestamp, r.offset), reverse=True)
        self._dead_end, self._dead_newest = end, tuple(_dead_letter(r) for r in records[:want])
        return self._dead_newest

    # -- cluster ----------------------------------------------------------------------------------------
    def _cluster(self, metadata: list[dict], problems: list[str]) -> ClusterHealth:
        described = self.admin.describe_cluster()
        self._known_brokers |= {b["broker_id"] for b in described["brokers"]}
        self._known_brokers |= {r for t in metadata for p in t["partitions"] for r in p["replica_nodes"]}
        leader, controllers = self._quorum(problems)
        return cluster_health(described, metadata, self._known_brokers, leader, controllers)

    def _quorum(self, problems: list[str]) -> tuple[int | None, tuple[ControllerHealth, ...]]:
        """The active controller and every voter's state, from the KRaft quorum of __cluster_metadata."""
        try:
            partition = self.admin.describe_metadata_quorum()["topics"][0]["partitions"][0]
        except (KafkaError, KeyError, IndexError) as exc:
            problems.append(f"the KRaft controller quorum could not be described: {exc!r}")
            return None, ()
        leader, watermark, now_ms = partition["leader_id"], partition.get("high_watermark"), time.time() * 1000
        voters = tuple(_controller(v, leader, watermark, now_ms) for v in partition.get("current_voters") or [])
        return leader, voters


def _broker(node: int, listed: dict | None) -> BrokerHealth:
    if listed is None:
        return BrokerHealth(node_id=node, host=None, port=None, up=False)
    fenced = bool(listed.get("is_fenced"))
    return BrokerHealth(node_id=node, host=listed.get("host"), port=listed.get("port"), up=not fenced,
                        fenced=fenced, rack=listed.get("rack"))


def cluster_health(described: dict, metadata: list[dict], known_brokers: set[int], quorum_leader: int | None,
                   controllers: tuple[ControllerHealth, ...] = ()) -> ClusterHealth:
    """Brokers (every one ever seen or named as a replica: up when registered and not fenced), partitions
    without a live leader (offline) and with ISR < replicas (under-replicated), from kafka-python's
    describe_cluster() and describe_topics() answers. Pure."""
    listed = {b["broker_id"]: b for b in described["brokers"]}
    brokers = tuple(_broker(node, listed.get(node)) for node in sorted(known_brokers | set(listed)))
    up = {b.node_id for b in brokers if b.up}
    urp, offline = [], []
    for t in metadata:
        for p in t["partitions"]:
            problem = ReplicaProblem(t["name"], p["partition_index"], p["leader_id"],
                                     tuple(p["replica_nodes"]), tuple(p["isr_nodes"]))
            if p["leader_id"] < 0 or p["leader_id"] not in up:
                offline.append(problem)
            elif len(p["isr_nodes"]) < len(p["replica_nodes"]):
                urp.append(problem)
    return ClusterHealth(cluster_id=described.get("cluster_id"), controller_id=described.get("controller_id"),
                         quorum_leader_id=quorum_leader, brokers=brokers, under_replicated=tuple(urp),
                         offline=tuple(offline), topics=len(metadata),
                         partitions=sum(len(t["partitions"]) for t in metadata), controllers=controllers)


def _controller(voter: dict, leader: int, watermark: int | None, now_ms: float) -> ControllerHealth:
    end, caught_up = voter.get("log_end_offset"), voter.get("last_caught_up_timestamp")
    lag = max(0, watermark - end) if watermark is not None and end is not None and end >= 0 else None
    ago = max(0.0, (now_ms - caught_up) / 1000) if caught_up is not None and caught_up >= 0 else None
    return ControllerHealth(node_id=voter["replica_id"], leader=voter["replica_id"] == leader, lag=lag,
                            caught_up_seconds_ago=ago)


def _view(group: str, described: dict, offsets: dict) -> GroupView:
    owners: dict[TP, str] = {}
    for member in described.get("members") or []:
        assignment = member.get("member_assignment")
        for entry in (assignment.get("assigned_partitions") or []) if isinstance(assignment, dict) else []:
            for partition in entry["partitions"]:
                owners[(entry["topic"], partition)] = member.get("client_id") or "?"
    return GroupView(group=group, state=described.get("group_state") or "Unknown",
                     members=len(described.get("members") or []), owners=owners,
                     offsets={(tp.topic, tp.partition): om.offset for tp, om in offsets.items() if om.offset >= 0})


def _dead_letter(record: Any) -> DeadLetter:
    """The dead letter's headers, its reason masked as the operator console masks it (one policy: person
    references, case ids and what carries them, coordinates, identity numbers), since viewers see the report."""
    from services.operators.masking import Masker

    headers = {name: value.decode("utf-8", "replace") for name, value in record.headers or [] if value is not None}
    masker = Masker(record.value, record.key)
    return DeadLetter(partition=record.partition, offset=record.offset, timestamp=record.timestamp / 1000,
                      reason=masker.text(headers.get("dlq_reason", "(no dlq_reason header)")),
                      source=headers.get("dlq_source"), stage=headers.get("dlq_stage"),
                      origin_topic=headers.get("dlq_origin_topic"))


class Sampler:
    """Samples the cluster every `settings.interval_s` into a window of `settings.window` samples."""

    def __init__(self, bootstrap_servers: str, database_url: str | None = None,
                 settings: HealthSettings | None = None, clock: Callable[[], float] = time.time):
        self.settings = settings or load_health_settings()
        self.database_url = database_url
        self.clock = clock
        self.window = Window(self.settings.window, self.settings.min_stop_s)
        self._reader = KafkaReader(bootstrap_servers, self.settings)
        self._lock = threading.RLock()
        self._latency: tuple[float, LatencySummary | None, str | None] | None = None
        self._latest: HealthReport | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> Snapshot:
        """Take one sample now and add it to the window."""
        with self._lock:
            try:
                snapshot = self._reader.snapshot(self.clock())
            except (KafkaError, OSError) as exc:
                raise ClusterUnreachable(f"Kafka did not answer the health sample ({exc!r}); check the brokers "
                                         "with `veiviser status`") from None
            self.window.add(snapshot)
            return snapshot

    def report(self) -> HealthReport:
        """Evaluate the window now (take a sample first if there is none); also kept as latest()."""
        with self._lock:
            if not self.window.samples:
                self.sample()
            latency, problem = self._pipeline_latency()
            self._latest = self.window.report(self.clock(), latency, (problem,) if problem else ())
            return self._latest

    def tick(self) -> HealthReport:
        """Sample now and report: for callers that run their own loop (the operator console's monitor)."""
        with self._lock:
            self.sample()
            return self.report()

    def latest(self) -> HealthReport | None:
        """The newest report the sampling thread (or report()) made; None before the first."""
        return self._latest

    def start(self, on_report: Callable[[HealthReport], None] | None = None) -> None:
        """Sample every interval_s in a daemon thread; each sample makes a report (passed to on_report)."""
        if self._thread is not None:
            raise RuntimeError("the sampler is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(on_report,), name="health-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.settings.interval_s + 15)
            self._thread = None

    def close(self) -> None:
        self.stop()
        with self._lock:
            self._reader.close()

    def __enter__(self) -> Sampler:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _run(self, on_report: Callable[[HealthReport], None] | None) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                report = self.tick()
                if on_report is not None:
                    on_report(report)
            except Exception:  # keep sampling: a broker that is away now may be back next time
                log.exception("health sample failed")
            self._stop.wait(max(0.0, self.settings.interval_s - (time.monotonic() - started)))

    def _pipeline_latency(self) -> tuple[LatencySummary | None, str | None]:
        if self.database_url is None:
            return None, None
        now = time.monotonic()
        if self._latency is None or now - self._latency[0] >= LATENCY_EVERY_S:
            try:
                self._latency = (now, pipeline_latency(self.database_url, self.settings.latency_minutes), None)
            except Exception as exc:  # psycopg2.Error, OSError: report it, keep the rest of the report
                self._latency = (now, None, f"pipeline latency could not be read from the ledger: {exc}".strip())
        return self._latency[1], self._latency[2]


def check(bootstrap_servers: str, database_url: str | None, settings: HealthSettings | None = None,
          samples: int = 5, interval_s: float = 2.0,
          progress: Callable[[int, int], None] | None = None) -> HealthReport:
    """Sample a short window (`samples` samples, `interval_s` apart) and report: `veiviser health`."""
    base = settings or load_health_settings()
    settings = base.model_copy(update={"window": max(2, samples), "interval_s": interval_s})
    with Sampler(bootstrap_servers, database_url, settings) as sampler:
        for n in range(samples):
            started = time.monotonic()
            sampler.sample()
            if progress is not None:
                progress(n + 1, samples)
            if n + 1 < samples:
                time.sleep(max(0.0, interval_s - (time.monotonic() - started)))
        return sampler.report()
