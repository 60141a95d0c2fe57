"""Consumer lag evaluated the way LinkedIn's Burrow does it: pure functions over a sliding window of samples.

No thresholds on the number of messages: a partition's status follows from how its committed offset and its
lag moved over the window (Burrow wiki, "Consumer Lag Evaluation Rules"; Burrow's evaluator
core/internal/evaluator/caching.go). A window holds, per partition of a group, the last N samples of
(sampled at, committed offset, log end offset, time of the newest known commit); lag = end - committed,
never below 0.

Partition rules, checked in this order (the first that applies decides):

  0. Fewer than 2 samples in the window, or the current lag (newest sample) is 0          -> OK
  1. STOP: the group stopped committing. The newest known commit is older than the span of the window's
     commits (Burrow rule 3: now - newest commit > newest commit - oldest commit; never less than
     `min_stop_s`), or no commit is known at all, AND the consumer was not caught up recently (no sample
     in the window has an end offset <= the newest committed offset: Burrow's "recent lag zero" grace, so a
     quiet partition that just got a message is not called stopped before the group had a chance to read it).
     Burrow checks this before rule 2 because the window's old zero-lag samples must not hide a dead group.
  2. The lag was 0 in any sample of the window                                              -> OK
  3. REWIND: the committed offset went back between two consecutive samples                -> REWIND
  4. STALL: the committed offset did not change over the whole window (and there is lag)   -> STALL
  5. WARN: the offsets move, but the lag never decreased from one sample to the next       -> WARN
  6. otherwise (offsets move and the lag went down at least once)                          -> OK

Group status (Burrow): the worst partition status, where OK < WARN < ERR and STOP, STALL and REWIND count
as ERR. A group with no partitions is OK. `worst` orders statuses OK < WARN < STOP < STALL < REWIND < ERR
for picking the partition to show first.

"Commit time": Kafka's OffsetFetch API does not say when an offset was committed. The collector
(streams.health.collect) therefore records as the newest commit the sample time while a live group member
owns the partition (a live consumer commits on its interval, so a live consumer that does not move is
STALL, as in Burrow), and the sample time at which a changed offset was first seen otherwise. When every
member left (the group is Empty), the commit time stays where it was and STOP follows once it is older
than the window's span.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Status", "OffsetSample", "Verdict", "evaluate_partition", "group_status", "worst", "ERROR_STATUSES"]


class Status(StrEnum):
    """A partition's status (OK, WARN, STOP, STALL, REWIND) or a group's (OK, WARN, ERR)."""

    OK = "OK"
    WARN = "WARN"
    STOP = "STOP"
    STALL = "STALL"
    REWIND = "REWIND"
    ERR = "ERR"


ERROR_STATUSES = frozenset({Status.STOP, Status.STALL, Status.REWIND, Status.ERR})
_RANK = {Status.OK: 0, Status.WARN: 1, Status.STOP: 2, Status.STALL: 3, Status.REWIND: 4, Status.ERR: 5}


@dataclass(frozen=True)
class OffsetSample:
    """One look at a partition of a group: when, the committed offset, the log end offset, the newest commit."""

    at: float                            # unix seconds when sampled
    offset: int                          # committed offset (the next message the group will read)
    end_offset: int                      # log end offset (high watermark) at the same time
    committed_at: float | None = None    # unix seconds of the newest commit known then (None: unknown)

    @property
    def lag(self) -> int:
        return max(0, self.end_offset - self.offset)


@dataclass(frozen=True)
class Verdict:
    """A partition's status and the rule that decided it, in words an operator can act on."""

    status: Status
    reason: str


def evaluate_partition(window: Sequence[OffsetSample], now: float, min_stop_s: float = 0.0) -> Verdict:
    """The status of one partition of a group over its window (oldest sample first), at time `now`."""
    if len(window) < 2:
        return Verdict(Status.OK, "not enough samples yet (need 2)")
    if window[-1].lag == 0:
        return Verdict(Status.OK, "caught up (lag 0)")
    if _stopped(window, now, min_stop_s) and not _recently_caught_up(window):
        return Verdict(Status.STOP, f"the group stopped committing; lag {window[-1].lag} unread - start its workers")
    if any(s.lag == 0 for s in window):
        return Verdict(Status.OK, "the lag was 0 within the window")
    if _rewound(window):
        return Verdict(Status.REWIND, "the committed offset went back: an offset reset or reprocessing - was it meant?")
    if all(s.offset == window[0].offset for s in window):
        return Verdict(Status.STALL, f"offset {window[-1].offset} did not move while lag is {window[-1].lag}"
                       " - the consumer is alive but stuck: see its log")
    if _lag_never_decreased(window):
        return Verdict(Status.WARN, f"consuming but falling behind: lag {window[0].lag} -> {window[-1].lag}"
                       " - add workers or find what slows them")
    return Verdict(Status.OK, "consuming and catching up")


def group_status(statuses: Iterable[Status]) -> Status:
    """Burrow's group status: ERR if any partition is STOP, STALL, REWIND (or ERR); else WARN if any WARN; else OK."""
    found = set(statuses)
    if found & ERROR_STATUSES:
        return Status.ERR
    return Status.WARN if Status.WARN in found else Status.OK


def worst(statuses: Iterable[Status]) -> Status:
    """The most severe status (OK when there is none)."""
    return max(statuses, key=_RANK.__getitem__, default=Status.OK)


def _stopped(window: Sequence[OffsetSample], now: float, min_stop_s: float) -> bool:
    commits = [s.committed_at for s in window if s.committed_at is not None]
    if not commits:
        return True
    newest, oldest = max(commits), min(commits)
    return now - newest > max(newest - oldest, min_stop_s)


def _recently_caught_up(window: Sequence[OffsetSample]) -> bool:
    newest_offset = window[-1].offset
    return any(s.end_offset <= newest_offset for s in window)


def _rewound(window: Sequence[OffsetSample]) -> bool:
    return any(b.offset < a.offset for a, b in zip(window, window[1:], strict=False))


def _lag_never_decreased(window: Sequence[OffsetSample]) -> bool:
    return all(b.lag >= a.lag for a, b in zip(window, window[1:], strict=False))
