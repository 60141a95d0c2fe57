"""Burrow's consumer lag rules on synthetic windows: each status, and the order in which the rules apply."""

from __future__ import annotations

import pytest

from streams.health.burrow import OffsetSample, Status, evaluate_partition, group_status, worst

pytestmark = pytest.mark.unit


def window(offsets, ends, committed=None, start=1000.0, step=10.0):
    """Samples `step` seconds apart; committed_at defaults to each sample's time (a live member)."""
    committed = committed if committed is not None else [start + i * step for i in range(len(offsets))]
    return [OffsetSample(start + i * step, o, e, c) for i, (o, e, c) in enumerate(zip(offsets, ends, committed,
                                                                                       strict=True))]


def status(samples, now=None, **kwargs):
    now = samples[-1].at if now is None else now
    return evaluate_partition(samples, now, **kwargs).status


def test_lag_is_never_negative():
    assert OffsetSample(0, 10, 8).lag == 0
    assert OffsetSample(0, 10, 15).lag == 5


def test_a_caught_up_partition_is_ok():
    assert status(window([10, 20, 30], [10, 20, 30])) is Status.OK


def test_current_lag_zero_is_ok_whatever_happened_before():
    assert status(window([10, 10, 5, 30], [40, 40, 40, 30])) is Status.OK


def test_fewer_than_two_samples_is_ok_because_nothing_can_be_judged():
    assert status(window([10], [500])) is Status.OK
    assert status([], now=0.0) is Status.OK


def test_any_zero_lag_in_the_window_is_ok():
    assert status(window([10, 10, 10, 10], [10, 11, 12, 13])) is Status.OK


def test_offsets_that_do_not_move_while_lag_exists_stall():
    verdict = evaluate_partition(window([10, 10, 10, 10], [15, 16, 17, 18]), 1030.0)
    assert verdict.status is Status.STALL
    assert "10" in verdict.reason and "18" not in verdict.reason.split("lag")[0]


@pytest.mark.parametrize(("offsets", "ends", "expected"), [
    ([10, 12, 14, 16], [15, 18, 21, 24], Status.WARN),      # moving, but the lag never decreases
    ([10, 12, 14, 16], [15, 17, 19, 21], Status.WARN),      # constant lag while moving: WARN, like Burrow
    ([10, 12, 20, 22], [15, 18, 21, 25], Status.OK),        # the lag went down once
    ([100, 110, 50, 60], [120, 130, 140, 150], Status.REWIND),
    ([100, 90, 100, 100], [120, 130, 140, 150], Status.REWIND),  # REWIND is checked before STALL and WARN
    ([100, 50, 150, 150], [120, 130, 150, 160], Status.OK),  # rewound, but caught up (lag 0) afterwards
], ids=["falling-behind", "constant-lag", "catching-up", "rewind", "rewind-before-stall", "rewind-then-caught-up"])
def test_live_consumers_by_how_offsets_and_lag_move(offsets, ends, expected):
    assert status(window(offsets, ends)) is expected


def test_a_group_that_stopped_committing_is_stop():
    # live member until t=1010, then nobody: the newest commit (1010) is older than now - 1010 > span 10
    samples = window([10, 10, 10, 10], [15, 16, 17, 18], committed=[1000, 1010, 1010, 1010])
    assert status(samples, now=1030.0) is Status.STOP


def test_stop_needs_the_commit_gap_to_exceed_the_window_span():
    samples = window([10, 12, 14, 14], [15, 18, 21, 24], committed=[1000, 1010, 1020, 1020])
    assert status(samples, now=1030.0) is Status.WARN  # 1030 - 1020 = 10, not > span 20: not stopped yet
    assert status(samples, now=1041.0) is Status.STOP


def test_no_known_commit_at_all_with_lag_is_stop():
    samples = window([10, 10, 10], [15, 16, 17], committed=[None, None, None])
    assert status(samples) is Status.STOP


def test_min_stop_s_delays_stop():
    samples = window([10, 10, 10, 10], [15, 16, 17, 18], committed=[1000, 1010, 1010, 1010])
    assert status(samples, now=1030.0, min_stop_s=60) is Status.STALL
    assert status(samples, now=1071.0, min_stop_s=60) is Status.STOP


def test_stop_is_checked_before_old_zero_lag_samples_can_hide_it():
    samples = window([10, 10, 10, 10], [10, 10, 12, 14], committed=[1000, 1000, 1000, 1000])
    # the consumer was caught up at offset 10 when the end was 10: Burrow's recent-lag-zero grace -> not STOP;
    # lag 0 in the window -> OK
    assert status(samples, now=1100.0) is Status.OK
    later = window([10, 10, 10], [12, 13, 14], committed=[1000, 1000, 1000], start=1100)
    assert status(later, now=1130.0) is Status.STOP


def test_a_stopped_group_without_lag_is_ok():
    assert status(window([10, 10, 10], [10, 10, 10], committed=[None, None, None])) is Status.OK


@pytest.mark.parametrize(("statuses", "expected"), [
    ([], Status.OK),
    ([Status.OK, Status.OK], Status.OK),
    ([Status.OK, Status.WARN], Status.WARN),
    ([Status.WARN, Status.STALL], Status.ERR),
    ([Status.OK, Status.STOP], Status.ERR),
    ([Status.REWIND], Status.ERR),
])
def test_group_status_is_the_worst_partition_capped_at_err(statuses, expected):
    assert group_status(statuses) is expected


def test_worst_orders_errors_above_warnings():
    assert worst([Status.OK, Status.WARN, Status.STALL, Status.STOP]) is Status.STALL
    assert worst([]) is Status.OK


def test_status_serialises_as_its_name():
    import json

    assert json.dumps({"s": Status.STALL}) == '{"s": "STALL"}'
    assert str(Status.ERR) == "ERR"
