"""The health report: what the sampler saw over its window, as plain dataclasses (to_dict / to_json).

    HealthReport
    ├── groups: GroupHealth (Burrow status OK/WARN/ERR, members, lag; or a watched group that could not be read) -> partitions: PartitionHealth (+ history)
    ├── topics: TopicThroughput (messages/s from end-offset deltas, + history)
    ├── cluster: ClusterHealth (brokers up/down, controller, quorum, under-replicated and offline partitions)
    ├── dead_letters: DeadLetterSummary (retained count, arrivals in the window, newest reasons)
    ├── latency: LatencySummary | None (end-to-end percentiles from the ledger; None without a database)
    └── problems: one line per thing that is not OK, worst first

Times are unix seconds (float) in the dataclasses; to_dict() keeps them and adds nothing else, so a web page
can chart them directly. No personal data: groups, topics, partitions, brokers, counts and reasons only
(dead-letter reasons are masked for identity numbers where they are written, see events.deadletters).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from streams.health.burrow import Status

CONTROLLER_BEHIND_S = 30.0

__all__ = [
    "LagPoint", "PartitionHealth", "GroupHealth", "RatePoint", "TopicThroughput", "BrokerHealth",
    "ReplicaProblem", "ControllerHealth", "ClusterHealth", "CONTROLLER_BEHIND_S", "DeadLetter",
    "DeadLetterSummary", "LatencySummary", "HealthReport",
    "overall_status",
]


@dataclass(frozen=True)
class LagPoint:
    """One sample of a partition of a group, for lag charts."""

    at: float
    offset: int
    end_offset: int
    lag: int


@dataclass(frozen=True)
class PartitionHealth:
    topic: str
    partition: int
    status: Status                  # OK, WARN, STOP, STALL, REWIND (streams.health.burrow)
    reason: str                     # the rule that decided, in words
    offset: int                     # committed offset in the newest sample
    end_offset: int
    lag: int                        # messages
    lag_seconds: float | None       # age of the oldest unconsumed message (0 when caught up; None: unknown)
    lag_seconds_estimated: bool     # True: lag / produce rate, not a read message timestamp
    owner: str | None               # client id of the member that owns it (None: no live member)
    history: tuple[LagPoint, ...] = ()


@dataclass(frozen=True)
class GroupHealth:
    group: str
    status: Status                  # OK, WARN or ERR (Burrow's group status)
    state: str                      # Kafka's group state: Stable, Empty, PreparingRebalance, Dead, ...
    members: int
    total_lag: int
    max_lag_seconds: float | None
    partitions: tuple[PartitionHealth, ...]
    reason: str | None = None       # why the status, when no partition says it (a group that could not be read)


@dataclass(frozen=True)
class RatePoint:
    at: float
    end_offset: int                 # sum of the topic's partitions' end offsets
    per_second: float | None        # since the previous point (None for the first)


@dataclass(frozen=True)
class TopicThroughput:
    topic: str
    partitions: int
    end_offset: int                 # sum over partitions (newest sample)
    per_second: float | None        # messages/s over the whole window (None: fewer than 2 samples)
    history: tuple[RatePoint, ...] = ()


@dataclass(frozen=True)
class BrokerHealth:
    node_id: int
    host: str | None
    port: int | None
    up: bool                        # registered and not fenced
    fenced: bool = False
    rack: str | None = None


@dataclass(frozen=True)
class ControllerHealth:
    """One voter of the KRaft controller quorum (describe_metadata_quorum)."""

    node_id: int
    leader: bool
    lag: int | None                         # metadata records behind the leader's high watermark
    caught_up_seconds_ago: float | None     # since it last had everything the leader had (None: never)


@dataclass(frozen=True)
class ReplicaProblem:
    topic: str
    partition: int
    leader: int                     # -1: no leader (offline)
    replicas: tuple[int, ...]
    isr: tuple[int, ...]


@dataclass(frozen=True)
class ClusterHealth:
    cluster_id: str | None
    controller_id: int | None       # what the brokers report (in KRaft: a broker that forwards to the quorum)
    quorum_leader_id: int | None    # the active KRaft controller (None when the quorum cannot be described)
    brokers: tuple[BrokerHealth, ...]
    under_replicated: tuple[ReplicaProblem, ...]
    offline: tuple[ReplicaProblem, ...]
    topics: int
    partitions: int
    controllers: tuple[ControllerHealth, ...] = ()

    @property
    def controllers_behind(self) -> tuple[ControllerHealth, ...]:
        """Voters that have not caught up with the leader for over CONTROLLER_BEHIND_S."""
        return tuple(c for c in self.controllers if not c.leader and (
            c.caught_up_seconds_ago is None or c.caught_up_seconds_ago > CONTROLLER_BEHIND_S))

    @property
    def brokers_down(self) -> tuple[BrokerHealth, ...]:
        return tuple(b for b in self.brokers if not b.up)


@dataclass(frozen=True)
class DeadLetter:
    """One dead letter's headers (never its value: that is for the privileged dead-letter browser)."""

    partition: int
    offset: int
    timestamp: float                # unix seconds the dead letter was written
    reason: str                     # dlq_reason
    source: str | None              # dlq_source: intake, stream:router, ...
    stage: str | None               # dlq_stage (stream agents)
    origin_topic: str | None        # dlq_origin_topic (stream agents)


@dataclass(frozen=True)
class DeadLetterSummary:
    topic: str
    total: int                      # retained on the topic (end - beginning offsets)
    end_offset: int                 # sum of the partitions' end offsets (ever written)
    arrived: int                    # written during the window
    per_second: float | None        # arrival rate over the window
    newest: tuple[DeadLetter, ...]  # newest first


@dataclass(frozen=True)
class LatencySummary:
    """End-to-end latency (event occurred_at -> decision recorded_at) of decisions in the last `minutes`."""

    minutes: float
    count: int
    p50: float | None               # seconds
    p90: float | None
    p99: float | None
    max: float | None
    skewed: int = 0                 # decisions whose event claims to have happened after it was decided


@dataclass(frozen=True)
class HealthReport:
    taken_at: float
    window_seconds: float           # time between the oldest and newest sample
    samples: int
    status: Status                  # OK, WARN or ERR (see overall_status)
    groups: tuple[GroupHealth, ...]
    topics: tuple[TopicThroughput, ...]
    cluster: ClusterHealth | None
    dead_letters: DeadLetterSummary | None
    latency: LatencySummary | None
    problems: tuple[str, ...] = field(default=())

    @property
    def exit_code(self) -> int:
        """0 unless something is ERR, then 1 (for scripts: `veiviser health || page-someone`)."""
        return 1 if self.status is Status.ERR else 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, default=str)


def overall_status(groups: tuple[GroupHealth, ...], cluster: ClusterHealth | None,
                   dead_letters: DeadLetterSummary | None) -> Status:
    """ERR: a group ERR, a broker down, an offline partition or no active controller; WARN: a group WARN, an
    under-replicated partition, a controller behind, or dead letters arriving in the window; else OK."""
    if any(g.status is Status.ERR for g in groups):
        return Status.ERR
    if cluster is not None and (cluster.brokers_down or cluster.offline or cluster.quorum_leader_id == -1):
        return Status.ERR
    if any(g.status is Status.WARN for g in groups):
        return Status.WARN
    if cluster is not None and (cluster.under_replicated or cluster.controllers_behind):
        return Status.WARN
    if dead_letters is not None and dead_letters.arrived:
        return Status.WARN
    return Status.OK
