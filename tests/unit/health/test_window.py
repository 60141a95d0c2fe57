"""The sliding window: synthetic snapshots in, a HealthReport out (commit times, lag seconds, throughput,
dead letters, cluster problems, overall status)."""

from __future__ import annotations

import json

import pytest

from streams.health.burrow import Status
from streams.health.report import BrokerHealth, ClusterHealth, DeadLetter, ReplicaProblem
from streams.health.window import GroupView, Snapshot, Window

pytestmark = pytest.mark.unit
T = "veiviser.case-events.v1"


def cluster(down=(), urp=(), offline=()):
    brokers = tuple(BrokerHealth(n, "h", 9092, up=n not in down) for n in (1, 2, 3))
    return ClusterHealth("c", 1, 1, brokers, tuple(urp), tuple(offline), topics=1, partitions=2)


def snap(at, offsets, ends, owned=True, state=None, **kw):
    owners = {tp: "worker" for tp in offsets} if owned else {}
    view = GroupView("veiviser-router", state or ("Stable" if owned else "Empty"), 1 if owned else 0,
                     offsets, owners)
    return Snapshot(at=at, groups=(view,), end_offsets=ends, topics=(T,), cluster=kw.pop("cluster", cluster()), **kw)


def fill(window, rows, **kw):
    for at, offsets, ends, owned in rows:
        window.add(snap(at, offsets, ends, owned, **kw))
    return window


def test_a_group_that_keeps_up_is_ok_with_its_throughput():
    w = fill(Window(4), [(t, {(T, 0): 10 * t}, {(T, 0): 10 * t}, True) for t in range(4)])
    report = w.report(now=3.0)
    assert report.status is Status.OK and report.exit_code == 0
    assert report.groups[0].status is Status.OK and report.groups[0].partitions[0].lag_seconds == 0.0
    assert report.topics[0].per_second == pytest.approx(10.0)
    assert [p.per_second for p in report.topics[0].history] == [None, 10.0, 10.0, 10.0]


def test_the_window_keeps_only_the_last_n_samples():
    w = fill(Window(3), [(t, {(T, 0): t}, {(T, 0): t}, True) for t in range(10)])
    report = w.report(now=9.0)
    assert report.samples == 3 and report.window_seconds == 2
    assert [p.at for p in report.groups[0].partitions[0].history] == [7, 8, 9]


def test_a_live_member_that_does_not_move_stalls_and_the_report_is_err():
    w = fill(Window(4), [(t, {(T, 0): 5}, {(T, 0): 10 + t}, True) for t in range(4)])
    report = w.report(now=3.0)
    part = report.groups[0].partitions[0]
    assert part.status is Status.STALL and part.owner == "worker"
    assert report.groups[0].status is Status.ERR and report.status is Status.ERR and report.exit_code == 1
    assert any("STALL" in line for line in report.problems)


def test_members_gone_means_stop_once_the_commit_is_older_than_the_window_span():
    rows = [(0, {(T, 0): 5}, {(T, 0): 5}, True), (1, {(T, 0): 6}, {(T, 0): 7}, True)]
    rows += [(t, {(T, 0): 6}, {(T, 0): 7 + t}, False) for t in range(2, 6)]
    w = fill(Window(4), rows)
    # window: t=2..5, commit time carried from t=1 (the last sample with a live member)
    report = w.report(now=5.0)
    assert report.groups[0].partitions[0].status is Status.STOP
    assert report.groups[0].state == "Empty" and report.groups[0].members == 0


def test_an_offset_change_without_members_counts_as_a_commit():
    rows = [(t, {(T, 0): 5 + t}, {(T, 0): 20 + 2 * t}, False) for t in range(4)]
    report = fill(Window(4), rows).report(now=3.0)
    assert report.groups[0].partitions[0].status is Status.WARN  # moving but falling behind, not stopped


def test_resuming_consumption_returns_to_ok():
    rows = [(t, {(T, 0): 5}, {(T, 0): 10 + t}, True) for t in range(4)]
    rows += [(4, {(T, 0): 14}, {(T, 0): 14}, True)]
    w = fill(Window(4), rows)
    assert w.report(now=4.0).groups[0].status is Status.OK


def test_lag_seconds_from_the_oldest_unread_message_else_estimated_from_the_produce_rate():
    rows = [(t, {(T, 0): 0}, {(T, 0): 10 * t}, True) for t in range(1, 4)]
    w = Window(3)
    for at, offsets, ends, owned in rows:
        w.add(snap(at, offsets, ends, owned, oldest_unread={("veiviser-router", (T, 0)): at - 7.5}))
    part = w.report(now=3.0).groups[0].partitions[0]
    assert part.lag_seconds == 7.5 and not part.lag_seconds_estimated
    estimated = fill(Window(3), rows).report(now=3.0).groups[0].partitions[0]
    assert estimated.lag_seconds == pytest.approx(30 / 10) and estimated.lag_seconds_estimated


def test_partitions_and_groups_that_vanish_leave_the_window():
    w = Window(3)
    w.add(snap(0, {(T, 0): 1, (T, 1): 1}, {(T, 0): 1, (T, 1): 1}))
    w.add(snap(1, {(T, 0): 2}, {(T, 0): 2}))
    w.add(snap(2, {(T, 0): 3, (T, 1): 3}, {(T, 0): 3, (T, 1): 3}))
    parts = {p.partition: p for p in w.report(now=2.0).groups[0].partitions}
    assert len(parts[1].history) == 1 and len(parts[0].history) == 3


def test_dead_letters_arriving_warn_with_the_newest_reason():
    newest = (DeadLetter(0, 4, 2.0, "payload.case_id: missing", "intake", None, None),)
    w = Window(3)
    for at, end in [(0, 3), (1, 3), (2, 5)]:
        w.add(snap(at, {(T, 0): at}, {(T, 0): at}, dead_letter_topic="dlq", dead_letter_total=end,
                   dead_letter_end=end, dead_letters_newest=newest))
    report = w.report(now=2.0)
    assert report.dead_letters.arrived == 2 and report.dead_letters.total == 5
    assert report.status is Status.WARN and report.exit_code == 0
    assert any("payload.case_id: missing" in line for line in report.problems)


@pytest.mark.parametrize(("health", "expected"), [
    (cluster(down=(2,)), Status.ERR),
    (cluster(offline=(ReplicaProblem(T, 0, -1, (1, 2), ()),)), Status.ERR),
    (cluster(urp=(ReplicaProblem(T, 0, 1, (1, 2, 3), (1, 2)),)), Status.WARN),
    (cluster(), Status.OK),
])
def test_cluster_problems_set_the_overall_status(health, expected):
    w = Window(2)
    for at in (0, 1):
        w.add(snap(at, {(T, 0): 1}, {(T, 0): 1}, cluster=health))
    report = w.report(now=1.0)
    assert report.status is expected
    assert bool(report.problems) is (expected is not Status.OK)


def test_the_report_is_json():
    w = fill(Window(2), [(t, {(T, 0): t}, {(T, 0): t + 1}, True) for t in range(2)])
    data = json.loads(w.report(now=1.0).to_json())
    assert data["groups"][0]["partitions"][0]["status"] in {"OK", "WARN"}
    assert data["cluster"]["brokers"][0]["node_id"] == 1 and data["status"] in {"OK", "WARN"}


def test_a_window_needs_two_samples_and_a_report_needs_one():
    with pytest.raises(ValueError, match="at least 2"):
        Window(1)
    with pytest.raises(ValueError, match="empty"):
        Window(2).report(now=0.0)


def test_a_controller_behind_the_quorum_warns_and_no_quorum_leader_errs():
    from dataclasses import replace

    from streams.health.report import ControllerHealth

    voters = (ControllerHealth(1, True, 0, 0.0), ControllerHealth(2, False, 0, 1.0),
              ControllerHealth(3, False, 812, 95.0))
    for health, expected in [(replace(cluster(), controllers=voters), Status.WARN),
                             (replace(cluster(), controllers=voters[:2]), Status.OK),
                             (replace(cluster(), quorum_leader_id=-1), Status.ERR)]:
        w = Window(2)
        for at in (0, 1):
            w.add(snap(at, {(T, 0): 1}, {(T, 0): 1}, cluster=health))
        report = w.report(now=1.0)
        assert report.status is expected
    assert any("controller 3 is behind" in line and "812" in line for line in
               fill(Window(2), [(0, {(T, 0): 1}, {(T, 0): 1}, True)],
                    cluster=replace(cluster(), controllers=voters)).report(now=0.0).problems)


def test_a_recreated_topic_has_no_negative_throughput():
    w = fill(Window(3), [(0, {(T, 0): 0}, {(T, 0): 500}, True), (1, {(T, 0): 0}, {(T, 0): 3}, True)])
    topic = w.report(now=1.0).topics[0]
    assert topic.per_second is None and topic.history[-1].per_second is None


def test_a_watched_group_that_cannot_be_read_warns_once_and_is_err_when_never_read():
    ok = {(T, 0): 5}
    err = "KafkaTimeoutError('coordinator')"
    w = fill(Window(3), [(t, ok, ok, True) for t in range(2)])
    w.add(snap(2, ok, ok, unreadable={"veiviser-planner": err}))
    report = w.report(now=2.0)
    lost = [g for g in report.groups if g.group == "veiviser-planner"]
    assert lost and lost[0].status is Status.WARN and lost[0].state == "Unreadable" and lost[0].partitions == ()
    assert report.status is Status.WARN and report.exit_code == 0
    assert any("veiviser-planner" in line and "1 of 3" in line and "coordinator" in line for line in report.problems)
    for t in (3, 4):
        w.add(snap(t, ok, ok, unreadable={"veiviser-planner": err}))
    report = w.report(now=4.0)
    [lost] = [g for g in report.groups if g.group == "veiviser-planner"]
    assert lost.status is Status.ERR and report.status is Status.ERR and report.exit_code == 1
    assert json.loads(report.to_json())["groups"][-1]["state"] == "Unreadable"
