"""The health sampler against the real broker: a consumer group that stops while events keep arriving becomes
STALL or STOP within the window and OK again after it resumes; dead letters, brokers, lag in seconds."""

from __future__ import annotations

import threading
import time

import pytest
from kafka import KafkaConsumer, KafkaProducer

from streams.health import Sampler, Status
from streams.health.settings import HealthSettings

pytestmark = pytest.mark.integration
INTERVAL_S = 0.5
WINDOW = 6


class Trickle:
    """Produces a message to every partition of `topic` every 0.1 s in a thread, until stopped."""

    def __init__(self, bootstrap_servers: str, topic: str, partitions: int):
        self.producer = KafkaProducer(bootstrap_servers=bootstrap_servers, linger_ms=0)
        self.topic, self.partitions, self.sent = topic, partitions, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Trickle:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self.producer.close()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            for partition in range(self.partitions):
                self.producer.send(self.topic, b"event", partition=partition)
                self.sent += 1
            self.producer.flush()


class Reader:
    """A consumer of the group that polls and commits in a thread while `running` is set."""

    def __init__(self, bootstrap_servers: str, topic: str, group: str):
        self.args = {"bootstrap_servers": bootstrap_servers, "group_id": group, "enable_auto_commit": False,
                     "auto_offset_reset": "earliest", "client_id": "health-test"}
        self.topic = topic
        self.running = threading.Event()
        self._stop = threading.Event()
        self.consumer: KafkaConsumer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.consumer = KafkaConsumer(self.topic, **self.args)
        self.running.set()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def pause(self) -> None:
        """Stop reading and committing but stay a member of the group (heartbeats go on)."""
        self.running.clear()

    def close(self) -> None:
        """Leave the group: nobody commits any more."""
        self._stop.set()
        self.running.set()
        if self._thread is not None:
            self._thread.join(10)
        if self.consumer is not None:
            self.consumer.close()
            self.consumer = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.running.wait()
            if self._stop.is_set():
                break
            if self.consumer.poll(timeout_ms=100):
                self.consumer.commit()


def settings(group: str, topic: str, dead_letter_topic: str) -> HealthSettings:
    return HealthSettings(groups=group, topics=topic, interval_s=INTERVAL_S, window=WINDOW,
                          dead_letter_topic=dead_letter_topic)


def sample_until(sampler: Sampler, group: str, wanted: set[Status], most: int, partitions: int = 2):
    """Sample every INTERVAL_S until every one of the group's `partitions` (all with committed offsets) has a
    status in `wanted`; the reports seen (last first)."""
    seen = []
    for _ in range(most):
        report = sampler.tick()
        found = [g for g in report.groups if g.group == group]
        seen.insert(0, report)
        if found and len(found[0].partitions) == partitions and {p.status for p in found[0].partitions} <= wanted:
            return seen
        time.sleep(INTERVAL_S)
    statuses = [[p.status.value for g in r.groups if g.group == group for p in g.partitions] for r in reversed(seen)]
    pytest.fail(f"group {group} never reached {sorted(s.value for s in wanted)} in {most} samples: {statuses}")


@pytest.mark.parametrize(("how", "expected"), [("close", {Status.STOP, Status.STALL}), ("pause", {Status.STALL})])
def test_a_group_that_stops_while_events_arrive_errs_within_the_window_and_recovers(
        bootstrap_servers, new_topic, new_group, how, expected):
    topic, dead, group = new_topic(partitions=2), new_topic(partitions=1), new_group()
    reader = Reader(bootstrap_servers, topic, group)
    with Trickle(bootstrap_servers, topic, 2), Sampler(bootstrap_servers, None, settings(group, topic, dead)) as sampler:
        reader.start()
        healthy = sample_until(sampler, group, {Status.OK}, most=4 * WINDOW)[0]
        assert next(g for g in healthy.groups if g.group == group).status is Status.OK

        reader.close() if how == "close" else reader.pause()
        stopped = sample_until(sampler, group, expected, most=WINDOW + 4)[0]
        found = next(g for g in stopped.groups if g.group == group)
        assert found.status is Status.ERR and stopped.status is Status.ERR and stopped.exit_code == 1
        assert all(p.lag > 0 and p.lag_seconds > 0 and not p.lag_seconds_estimated for p in found.partitions)
        if how == "close":
            assert found.state == "Empty" and found.members == 0
        else:
            assert found.members == 1 and all(p.owner == "health-test" for p in found.partitions)
        assert next(t for t in stopped.topics if t.topic == topic).per_second > 0

        reader.start() if how == "close" else reader.running.set()
        recovered = sample_until(sampler, group, {Status.OK}, most=2 * WINDOW)[0]
        assert next(g for g in recovered.groups if g.group == group).status is Status.OK
    reader.close()


def test_dead_letters_arriving_are_counted_with_their_newest_reasons(bootstrap_servers, new_topic, new_group):
    topic, dead, group = new_topic(partitions=1), new_topic(partitions=2), new_group()
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers)
    producer.send(dead, b"old", headers=[("dlq_reason", b"an old reason"), ("dlq_source", b"intake")])
    producer.flush()
    with Sampler(bootstrap_servers, None, settings(group, topic, dead)) as sampler:
        first = sampler.tick()
        assert first.dead_letters.total == 1 and first.dead_letters.arrived == 0
        assert first.dead_letters.newest[0].reason == "an old reason"
        for n in range(3):
            producer.send(dead, b"{}", partition=n % 2, headers=[
                ("dlq_reason", f"payload.case_id: missing ({n})".encode()), ("dlq_source", b"stream:router"),
                ("dlq_stage", b"validate"), ("dlq_origin_topic", b"veiviser.case-events.v1")])
            producer.flush()
            time.sleep(0.05)
        report = sampler.tick()
    producer.close()
    letters = report.dead_letters
    assert letters.total == 4 and letters.arrived == 3 and letters.per_second > 0
    assert letters.newest[0].reason == "payload.case_id: missing (2)"
    assert [d.reason for d in letters.newest][-1] == "an old reason" and len(letters.newest) == 4
    assert letters.newest[0].stage == "validate" and letters.newest[0].origin_topic == "veiviser.case-events.v1"
    assert report.status is Status.WARN and report.exit_code == 0
    assert any("3 dead letter(s) arrived" in line for line in report.problems)


def test_dead_letter_reasons_are_masked_like_the_console_masks_them(bootstrap_servers, new_topic, new_group):
    topic, dead, group = new_topic(partitions=1), new_topic(partitions=1), new_group()
    value = b'{"payload": {"case_id": "SAK-4471", "person_ref": "psn-abcdefgh1234", "lat": 67.2804}}'
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers)
    producer.send(dead, value, key=b"SAK-4471", headers=[
        ("dlq_reason", b"case SAK-4471 (psn-abcdefgh1234) at 67.2804: unknown office"), ("dlq_source", b"intake")])
    producer.close()
    with Sampler(bootstrap_servers, None, settings(group, topic, dead)) as sampler:
        [letter] = sampler.tick().dead_letters.newest
    assert "unknown office" in letter.reason
    assert "SAK-4471" not in letter.reason and "psn-abcdefgh1234" not in letter.reason and "67.28" not in letter.reason


def test_brokers_and_partitions_of_the_running_cluster(bootstrap_servers, new_topic, new_group):
    topic = new_topic(partitions=3)
    with Sampler(bootstrap_servers, None, settings(new_group(), topic, new_topic(partitions=1))) as sampler:
        report = sampler.tick()
    cluster = report.cluster
    assert cluster.brokers and all(b.up for b in cluster.brokers) and not cluster.offline
    assert cluster.controller_id in {b.node_id for b in cluster.brokers}
    assert cluster.quorum_leader_id is not None and cluster.partitions >= 3
    assert [c.node_id for c in cluster.controllers if c.leader] == [cluster.quorum_leader_id]
    assert not cluster.controllers_behind
    assert [t.topic for t in report.topics] == [topic] and report.topics[0].partitions == 3


def test_the_sampling_thread_reports_every_interval_until_stopped(bootstrap_servers, new_topic, new_group):
    topic = new_topic(partitions=1)
    reports = []
    got_three = threading.Event()

    def seen(report) -> None:
        reports.append(report)
        if len(reports) >= 3:
            got_three.set()

    with Sampler(bootstrap_servers, None, settings(new_group(), topic, new_topic(partitions=1))) as sampler:
        assert sampler.latest() is None
        sampler.start(on_report=seen)
        with pytest.raises(RuntimeError, match="already running"):
            sampler.start()
        assert got_three.wait(20), f"only {len(reports)} report(s) in 20 s at an interval of {INTERVAL_S} s"
        sampler.stop()
        count = len(reports)
        time.sleep(3 * INTERVAL_S)
        assert len(reports) == count and sampler.latest() is reports[-1]
    assert [r.samples for r in reports[:3]] == [1, 2, 3]
    assert reports[2].taken_at - reports[0].taken_at >= 2 * INTERVAL_S * 0.9
