"""Prometheus gauges of the health sampler, set from each HealthReport by the process that runs the sampler.

Labels are bounded: consumer group (the watched ones), topic, partition, broker node id; never a case,
person, visit or worker id. Statuses are exported as 0/1 per status name (one time series per status, the
Prometheus "enum" pattern), so alert rules can say `veiviser_consumer_group_status{status="ERR"} == 1`.
Dead letters written are also a counter (veiviser_dead_letters_arrived_total), for increase() and rate():
the end-offset gauge drops when the topic is recreated, which increase() would misread.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge

from streams.health.burrow import Status
from streams.health.report import HealthReport
from streams.health.window import UNREADABLE

__all__ = ["HealthMetrics"]

GROUP_STATUSES = (Status.OK, Status.WARN, Status.ERR)
PARTITION_STATUSES = (Status.OK, Status.WARN, Status.STOP, Status.STALL, Status.REWIND)


class HealthMetrics:
    """The health gauges in `registry` (the default registry unless given); `update(report)` sets them."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        g = lambda name, text, labels: Gauge(name, text, labels, registry=registry)  # noqa: E731
        self.lag = g("veiviser_consumer_lag_messages", "Committed offset behind the log end, in messages",
                     ["group", "topic", "partition"])
        self.lag_seconds = g("veiviser_consumer_lag_seconds", "Age of the oldest unread message (0 when caught up)",
                             ["group", "topic", "partition"])
        self.partition_status = g("veiviser_consumer_partition_status",
                                  "1 for the partition's Burrow status, 0 for the others",
                                  ["group", "topic", "partition", "status"])
        self.group_status = g("veiviser_consumer_group_status", "1 for the group's Burrow status (OK, WARN, ERR)",
                              ["group", "status"])
        self.group_members = g("veiviser_consumer_group_members", "Live members of the group", ["group"])
        self.group_unreadable = g("veiviser_consumer_group_unreadable", "1 when the sampler could not read the "
                                  "watched group (its status is then WARN, or ERR when no sample read it)", ["group"])
        self.throughput = g("veiviser_topic_messages_per_second", "Messages appended per second over the window",
                            ["topic"])
        self.end_offset = g("veiviser_topic_end_offset", "Sum of the topic's partitions' log end offsets", ["topic"])
        self.broker_up = g("veiviser_kafka_broker_up", "1 when the broker is registered and not fenced", ["broker"])
        self.controller_age = g("veiviser_kafka_controller_caught_up_age_seconds",
                                "Seconds since the KRaft voter last had everything the leader had (0 for the leader)",
                                ["controller"])
        self.under_replicated = g("veiviser_kafka_under_replicated_partitions", "Partitions with ISR < replicas", [])
        self.offline = g("veiviser_kafka_offline_partitions", "Partitions without a live leader", [])
        self.dead_letters = g("veiviser_dead_letters", "Dead letters retained on the dead-letter topic", [])
        self.dead_letter_end = g("veiviser_dead_letter_end_offset", "Sum of the dead-letter topic's end offsets "
                                 "(a gauge: it drops when the topic is recreated; count arrivals with "
                                 "veiviser_dead_letters_arrived_total)", [])
        self.dead_letters_arrived = Counter("veiviser_dead_letters_arrived", "Dead letters written to the dead-letter "
                                            "topic since this sampler started (end-offset growth between samples; "
                                            "a recreated topic counts what its new log holds)", registry=registry)
        self._dead_end: int | None = None
        self.latency = g("veiviser_ledger_decision_latency_seconds",
                         "End-to-end latency percentile (event occurred -> decision recorded) over the ledger's "
                         "last VEIVISER_HEALTH_LATENCY_MINUTES", ["percentile"])
        self.status = g("veiviser_health_status", "1 for the overall health status (OK, WARN, ERR)", ["status"])
        self._shown: dict[Gauge, set[tuple[str, ...]]] = {}
        self.sampled_at = g("veiviser_health_last_sample_timestamp_seconds", "Unix time of the newest sample", [])

    def update(self, report: HealthReport) -> None:
        self._groups(report)
        for t in report.topics:
            self.end_offset.labels(t.topic).set(t.end_offset)
            self.throughput.labels(t.topic).set(t.per_second or 0.0)
        if report.cluster is not None:
            for b in report.cluster.brokers:
                self.broker_up.labels(str(b.node_id)).set(1 if b.up else 0)
            for c in report.cluster.controllers:
                age = 0.0 if c.leader else c.caught_up_seconds_ago
                if age is not None:
                    self.controller_age.labels(str(c.node_id)).set(age)
            self.under_replicated.set(len(report.cluster.under_replicated))
            self.offline.set(len(report.cluster.offline))
        if report.dead_letters is not None:
            self.dead_letters.set(report.dead_letters.total)
            self.dead_letter_end.set(report.dead_letters.end_offset)
            self._count_dead_letters(report.dead_letters.end_offset)
        if report.latency is not None:
            for name in ("p50", "p90", "p99"):
                value = getattr(report.latency, name)
                if value is not None:
                    self.latency.labels(name).set(value)
        for status in GROUP_STATUSES:
            self.status.labels(status.value).set(1 if report.status is status else 0)
        self.sampled_at.set(report.taken_at)

    def _count_dead_letters(self, end: int) -> None:
        """Arrivals since the previous report: the end offsets' growth, or, when they went back (the topic was
        deleted and created again), the new log's end offset - every message on it arrived since."""
        if self._dead_end is not None:
            self.dead_letters_arrived.inc(end - self._dead_end if end >= self._dead_end else end)
        self._dead_end = end

    def _groups(self, report: HealthReport) -> None:
        """Set every group's and partition's series, then remove the series of those that went away (never
        clear first: a scrape in between would see the groups vanish)."""
        values: dict[Gauge, dict[tuple[str, ...], float]] = {m: {} for m in (
            self.lag, self.lag_seconds, self.partition_status, self.group_status, self.group_members,
            self.group_unreadable)}
        for group in report.groups:
            for status in GROUP_STATUSES:
                values[self.group_status][(group.group, status.value)] = 1 if group.status is status else 0
            values[self.group_members][(group.group,)] = group.members
            values[self.group_unreadable][(group.group,)] = 1 if group.state == UNREADABLE else 0
            for p in group.partitions:
                labels = (group.group, p.topic, str(p.partition))
                values[self.lag][labels] = p.lag
                if p.lag_seconds is not None:
                    values[self.lag_seconds][labels] = p.lag_seconds
                for status in PARTITION_STATUSES:
                    values[self.partition_status][(*labels, status.value)] = 1 if p.status is status else 0
        for metric, wanted in values.items():
            for labels, value in wanted.items():
                metric.labels(*labels).set(value)
            for labels in self._shown.get(metric, set()) - wanted.keys():
                metric.remove(*labels)
            self._shown[metric] = set(wanted)
