"""The sliding window: snapshots of the cluster in, a HealthReport out. Pure (no Kafka, no clock).

`Window.add(snapshot)` keeps, per (group, topic, partition), the last N OffsetSamples (N = window size) and
the newest commit time (see streams.health.burrow for why it is estimated), and per topic the last N end
offsets; `Window.report(now, latency)` evaluates every partition with Burrow's rules and builds the report.
A group or partition that is no longer in the newest snapshot leaves the window, except a watched group the
sample could not read (Snapshot.unreadable): it stays in the report, with state "Unreadable" and no
partitions, WARN when the window also has samples that read it, ERR when no sample of the window could read
it - so `veiviser health` fails (exit 1) for a group it cannot see, and a one-off error only warns.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from streams.health.burrow import OffsetSample, Status, evaluate_partition, group_status
from streams.health.report import (
    ClusterHealth,
    ControllerHealth,
    DeadLetter,
    DeadLetterSummary,
    GroupHealth,
    HealthReport,
    LagPoint,
    LatencySummary,
    PartitionHealth,
    RatePoint,
    TopicThroughput,
    overall_status,
)

__all__ = ["TP", "GroupView", "Snapshot", "Window", "UNREADABLE"]

TP = tuple[str, int]  # (topic, partition)
UNREADABLE = "Unreadable"  # GroupHealth.state of a watched group the sample could not read


@dataclass(frozen=True)
class GroupView:
    """One consumer group as the admin API showed it in one sample."""

    group: str
    state: str                          # Stable, Empty, PreparingRebalance, CompletingRebalance, Dead
    members: int
    offsets: Mapping[TP, int]           # committed offsets
    owners: Mapping[TP, str] = field(default_factory=dict)   # partition -> client id of the live member


@dataclass(frozen=True)
class Snapshot:
    """Everything one sample read from the cluster."""

    at: float
    groups: tuple[GroupView, ...]
    end_offsets: Mapping[TP, int]                     # every partition of the watched groups and topics
    topics: tuple[str, ...] = ()                      # topics whose throughput is reported
    cluster: ClusterHealth | None = None
    oldest_unread: Mapping[tuple[str, TP], float] = field(default_factory=dict)  # (group, tp) -> msg timestamp
    dead_letter_topic: str | None = None
    dead_letter_total: int | None = None              # retained (end - beginning), None: topic not there
    dead_letter_end: int | None = None                # sum of end offsets (arrivals = its growth)
    dead_letters_newest: tuple[DeadLetter, ...] = ()
    problems: tuple[str, ...] = ()                    # parts the sample could not read, and why
    unreadable: Mapping[str, str] = field(default_factory=dict)  # watched group -> why it could not be read


class Window:
    """The last `size` samples per partition of every watched group and per watched topic."""

    def __init__(self, size: int, min_stop_s: float = 0.0) -> None:
        if size < 2:
            raise ValueError(f"a window needs at least 2 samples to see movement, not {size}")
        self.size = size
        self.min_stop_s = min_stop_s
        self._offsets: dict[tuple[str, TP], deque[OffsetSample]] = {}
        self._snapshots: deque[Snapshot] = deque(maxlen=size)

    @property
    def samples(self) -> int:
        return len(self._snapshots)

    def add(self, snapshot: Snapshot) -> None:
        """Take one sample in (snapshots must come in time order)."""
        seen: set[tuple[str, TP]] = set()
        for view in snapshot.groups:
            for tp, offset in view.offsets.items():
                key = (view.group, tp)
                seen.add(key)
                series = self._offsets.setdefault(key, deque(maxlen=self.size))
                series.append(_sample(snapshot, view, tp, offset, series[-1] if series else None))
        for gone in set(self._offsets) - seen:
            del self._offsets[gone]
        self._snapshots.append(snapshot)

    def report(self, now: float, latency: LatencySummary | None = None,
               extra_problems: tuple[str, ...] = ()) -> HealthReport:
        """Evaluate the window at time `now` (unix seconds)."""
        if not self._snapshots:
            raise ValueError("the window is empty: add a snapshot before asking for a report")
        newest = self._snapshots[-1]
        groups = tuple(self._group(view, newest, now) for view in newest.groups) + self._unreadable()
        dead = self._dead_letters()
        problems = _problems(groups, newest.cluster, dead) + newest.problems + extra_problems
        return HealthReport(
            taken_at=newest.at, window_seconds=newest.at - self._snapshots[0].at, samples=len(self._snapshots),
            status=overall_status(groups, newest.cluster, dead), groups=groups, topics=self._topics(),
            cluster=newest.cluster, dead_letters=dead, latency=latency, problems=problems)

    def _group(self, view: GroupView, newest: Snapshot, now: float) -> GroupHealth:
        partitions = tuple(self._partition(view, tp, newest, now) for tp in sorted(view.offsets))
        lag_seconds = [p.lag_seconds for p in partitions if p.lag_seconds is not None]
        return GroupHealth(group=view.group, status=group_status(p.status for p in partitions), state=view.state,
                           members=view.members, total_lag=sum(p.lag for p in partitions),
                           max_lag_seconds=max(lag_seconds, default=None), partitions=partitions)

    def _unreadable(self) -> tuple[GroupHealth, ...]:
        newest = self._snapshots[-1]
        groups = []
        for group, why in sorted(newest.unreadable.items()):
            misses = sum(group in s.unreadable for s in self._snapshots)
            always = misses == len(self._snapshots)
            reason = f"could not be read in {misses} of {len(self._snapshots)} samples: {why}"
            groups.append(GroupHealth(group=group, status=Status.ERR if always else Status.WARN, state=UNREADABLE,
                                      members=0, total_lag=0, max_lag_seconds=None, partitions=(), reason=reason))
        return tuple(groups)

    def _partition(self, view: GroupView, tp: TP, newest: Snapshot, now: float) -> PartitionHealth:
        series = list(self._offsets[(view.group, tp)])
        verdict = evaluate_partition(series, now, self.min_stop_s)
        last = series[-1]
        seconds, estimated = _lag_seconds(series, newest.oldest_unread.get((view.group, tp)), newest.at)
        return PartitionHealth(
            topic=tp[0], partition=tp[1], status=verdict.status, reason=verdict.reason, offset=last.offset,
            end_offset=last.end_offset, lag=last.lag, lag_seconds=seconds, lag_seconds_estimated=estimated,
            owner=view.owners.get(tp), history=tuple(LagPoint(s.at, s.offset, s.end_offset, s.lag) for s in series))

    def _topics(self) -> tuple[TopicThroughput, ...]:
        newest = self._snapshots[-1]
        return tuple(self._topic(topic) for topic in sorted(newest.topics))

    def _topic(self, topic: str) -> TopicThroughput:
        points: list[RatePoint] = []
        partitions = 0
        for snap in self._snapshots:
            ends = [end for (name, _), end in snap.end_offsets.items() if name == topic]
            if not ends:
                continue
            partitions, total = len(ends), sum(ends)
            rate = _rate(points[-1].at, points[-1].end_offset, snap.at, total) if points else None
            points.append(RatePoint(snap.at, total, rate))
        whole = _rate(points[0].at, points[0].end_offset, points[-1].at, points[-1].end_offset) \
            if len(points) > 1 else None
        return TopicThroughput(topic=topic, partitions=partitions, end_offset=points[-1].end_offset if points else 0,
                               per_second=whole, history=tuple(points))

    def _dead_letters(self) -> DeadLetterSummary | None:
        newest = self._snapshots[-1]
        if newest.dead_letter_topic is None or newest.dead_letter_total is None:
            return None
        ends = [(s.at, s.dead_letter_end) for s in self._snapshots if s.dead_letter_end is not None]
        arrived = max(0, ends[-1][1] - ends[0][1])
        rate = _rate(ends[0][0], ends[0][1], ends[-1][0], ends[-1][1]) if len(ends) > 1 else None
        return DeadLetterSummary(topic=newest.dead_letter_topic, total=newest.dead_letter_total,
                                 end_offset=ends[-1][1], arrived=arrived,
                                 per_second=rate, newest=newest.dead_letters_newest)


def _sample(snapshot: Snapshot, view: GroupView, tp: TP, offset: int, previous: OffsetSample | None) -> OffsetSample:
    """The sample with its newest commit time: now while a live member owns the partition (it commits on its
    interval), now when the offset changed, else the previous commit time (None: never seen one)."""
    if tp in view.owners or (previous is not None and previous.offset != offset):
        committed_at: float | None = snapshot.at
    else:
        committed_at = previous.committed_at if previous is not None else None
    return OffsetSample(snapshot.at, offset, snapshot.end_offsets.get(tp, offset), committed_at)


def _lag_seconds(series: list[OffsetSample], oldest_unread: float | None, at: float) -> tuple[float | None, bool]:
    """Age of the oldest unread message: from its timestamp when read, else lag / produce rate (estimated)."""
    last = series[-1]
    if last.lag == 0:
        return 0.0, False
    if oldest_unread is not None:
        return max(0.0, at - oldest_unread), False
    rate = _rate(series[0].at, series[0].end_offset, last.at, last.end_offset) if len(series) > 1 else None
    return (last.lag / rate, True) if rate else (None, True)


def _rate(t0: float, v0: int, t1: float, v1: int) -> float | None:
    """Per second; None without time between, or when the offsets went back (the topic was recreated)."""
    return (v1 - v0) / (t1 - t0) if t1 > t0 and v1 >= v0 else None


def _behind(controller: ControllerHealth) -> str:
    ago = controller.caught_up_seconds_ago
    since = "never caught up" if ago is None else f"last caught up {ago:.0f} s ago"
    lag = "" if controller.lag is None else f"{controller.lag} metadata records behind, "
    return f"controller {controller.node_id} is behind the quorum leader ({lag}{since})"


def _problems(groups: tuple[GroupHealth, ...], cluster: ClusterHealth | None,
              dead: DeadLetterSummary | None) -> tuple[str, ...]:
    lines: list[str] = []
    for g in sorted(groups, key=lambda g: g.status is not Status.ERR):
        if g.reason:
            lines.append(f"group {g.group} {g.status}: {g.reason}")
        bad = [p for p in g.partitions if p.status is not Status.OK]
        for p in sorted(bad, key=lambda p: p.status is Status.WARN)[:20]:
            lines.append(f"group {g.group}: {p.topic}/{p.partition} {p.status}: {p.reason}")
    if cluster is not None:
        lines += [f"broker {b.node_id} is down ({'fenced' if b.fenced else 'not registered'})"
                  for b in cluster.brokers_down]
        if cluster.quorum_leader_id == -1:
            lines.append("the KRaft controller quorum has no leader: no metadata changes (topics, leaders) possible")
        lines += [_behind(c) for c in cluster.controllers_behind]
        lines += [f"partition {r.topic}/{r.partition} is offline (no leader; replicas {list(r.replicas)})"
                  for r in cluster.offline]
        lines += [f"partition {r.topic}/{r.partition} is under-replicated (isr {list(r.isr)} of {list(r.replicas)})"
                  for r in cluster.under_replicated[:20]]
    if dead is not None and dead.arrived:
        lines.append(f"{dead.arrived} dead letter(s) arrived on {dead.topic} in the window"
                     + (f"; newest: {dead.newest[0].reason}" if dead.newest else ""))
    return tuple(lines)
