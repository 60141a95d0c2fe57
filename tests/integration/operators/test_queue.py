"""The dead-letter queue on the real broker and database: index, mask, replay, discard, audit, loops."""

from __future__ import annotations

import json
import threading

import pytest

from services.operators import Caller
from services.operators.deadletters import REPLAY_GENERATION, REPLAY_OF
from services.operators.masking import MASK
from services.operators.store import Filter
from streams.delivery import REPLAY_HEADER
from streams.stages import Handled, Origin, Outcome
from tests.integration.operators.support import (
    close_queue,
    open_queue,
    poison,
    read_topic,
    rejection,
    send_dead_letters,
)

pytestmark = pytest.mark.integration
KARI = Caller("kari", "operator")


@pytest.fixture
def setup(bootstrap_servers, database_url, new_topic):
    dlq, origin = new_topic(3), new_topic(3)
    queue = open_queue(bootstrap_servers, database_url, dlq, max_replays=1)
    yield queue, origin
    close_queue(queue, database_url)


def test_a_poison_message_raises_the_count_and_is_browsed_masked(setup, bootstrap_servers):
    queue, origin = setup
    queue.sync()
    assert queue.summary()["open"] == 0
    event = poison(bootstrap_servers, queue.name, origin, "case-poison-1")
    assert queue.sync() == 1 and queue.sync() == 0  # indexed once
    summary = queue.summary()
    assert summary["open"] == 1 and summary["last_hour"] == 1
    assert summary["open_by_origin"] == [{"origin": origin, "stage": "validate", "count": 1}]
    assert "is not one of the services" in summary["newest_reasons"][0]["reason"]
    total, items = queue.search(Filter(origin=origin, stage="validate", text="services"))
    assert total == 1 and items[0]["event_name"] == "case.opened" and items[0]["event_id"] == event["event_id"]
    assert queue.search(Filter(origin="elsewhere"))[0] == 0 and queue.search(Filter(status="replayed"))[0] == 0
    shown = queue.view(queue.ref(items[0]["dl_partition"], items[0]["dl_offset"]), KARI)
    value = json.loads(shown["value"])
    assert shown["masked"] and value["payload"]["person_ref"] == MASK and value["payload"]["case_id"] == MASK
    assert value["payload"]["locations"][0]["coordinates"] == {"lat": MASK, "lon": MASK}
    assert "case-poison-1" not in json.dumps(shown, default=str) and "67.2811" not in shown["value"]


def _only(queue):
    total, items = queue.search(Filter())
    assert total == 1
    return queue.ref(items[0]["dl_partition"], items[0]["dl_offset"])


def test_replay_delivers_the_original_bytes_and_key_marked_as_a_replay_once(setup, bootstrap_servers):
    queue, origin = setup
    event = poison(bootstrap_servers, queue.name, origin, "case-replay-1")
    queue.sync()
    ref = _only(queue)
    [done] = queue.replay([ref], KARI, "fixed the service list")
    assert done.ok, done.detail
    [copy] = read_topic(bootstrap_servers, origin)
    assert copy.key == b"case-replay-1" and json.loads(copy.value) == event
    headers = dict(copy.headers)
    assert headers[REPLAY_OF] == f"{queue.name}:{ref.partition}:{ref.offset}".encode()
    assert headers[REPLAY_GENERATION] == b"1"
    [again] = queue.replay([ref], KARI)
    assert not again.ok and "already replayed" in again.detail
    assert len(read_topic(bootstrap_servers, origin, idle_ms=1500)) == 1
    [forced] = queue.replay([ref], KARI, "second copy on purpose", force=True)
    assert forced.ok and len(read_topic(bootstrap_servers, origin)) == 2
    audit = queue.store.audit(queue.name, ref)
    assert [(a["action"], a["actor"], a["forced"], a["why"]) for a in audit] == [
        ("replay", "kari", True, "second copy on purpose"), ("replay", "kari", False, "fixed the service list")]
    assert queue.store.get(ref)["status"] == "replayed" and queue.store.get(ref)["replays"] == 2


def test_two_operators_replaying_at_once_replay_once(setup, bootstrap_servers):
    queue, origin = setup
    poison(bootstrap_servers, queue.name, origin, "case-race-1")
    queue.sync()
    ref, results = _only(queue), []
    threads = [threading.Thread(target=lambda: results.extend(queue.replay([ref], KARI))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.ok for r in results) == [False, True]
    assert len(read_topic(bootstrap_servers, origin)) == 1


def test_discard_needs_a_reason_is_audited_and_stops_a_replay(setup, bootstrap_servers):
    queue, origin = setup
    poison(bootstrap_servers, queue.name, origin, "case-discard-1")
    queue.sync()
    ref = _only(queue)
    with pytest.raises(Exception, match="say why"):
        queue.discard([ref], KARI, "  ")
    [done] = queue.discard([ref], KARI, "load-test data")
    assert done.ok and queue.summary()["open"] == 0 and queue.summary()["by_status"] == {"discarded": 1}
    [entry] = queue.store.audit(queue.name, ref)
    assert (entry["action"], entry["actor"], entry["why"]) == ("discard", "kari", "load-test data")
    assert entry["at"] is not None
    [replay] = queue.replay([ref], KARI)
    assert not replay.ok and "discarded" in replay.detail
    [twice] = queue.discard([ref], KARI, "again")
    assert not twice.ok
    assert read_topic(bootstrap_servers, origin, idle_ms=1500) == []


def test_a_replay_that_fails_again_is_linked_to_it_and_the_loop_is_stopped(setup, bootstrap_servers):
    queue, origin = setup
    event = poison(bootstrap_servers, queue.name, origin, "case-loop-1")
    queue.sync()
    first = _only(queue)
    [done] = queue.replay([first], KARI, "try again")
    _, partition, offset = done.target.split(":")
    # the consumer rejects the replayed copy again: its dead letter's origin is where the replay was written
    send_dead_letters(bootstrap_servers, queue.name, [(json.dumps(event).encode(),
                                                       Origin(origin, int(partition), int(offset), b"case-loop-1"),
                                                       rejection())])
    queue.sync()
    total, items = queue.search(Filter(status="open"))
    assert total == 1
    second = items[0]
    assert second["generation"] == 1 and (second["parent_partition"], second["parent_offset"]) == (
        first.partition, first.offset)
    assert queue.summary()["failing_again"] == 1
    ref = queue.ref(second["dl_partition"], second["dl_offset"])
    [refused] = queue.replay([ref], KARI)  # max_replays=1
    assert not refused.ok and "fix the cause first" in refused.detail
    [forced] = queue.replay([ref], KARI, "the fix is out now", force=True)
    assert forced.ok
    copies = read_topic(bootstrap_servers, origin)
    assert [dict(c.headers)[REPLAY_GENERATION] for c in copies] == [b"1", b"2"]


def test_a_dead_letter_that_expired_or_never_was_is_not_found(setup):
    queue, _ = setup
    with pytest.raises(Exception, match="no dead letter 0:999"):
        queue.view(queue.ref(0, 999), KARI)
    [done] = queue.replay([queue.ref(1, 5)], KARI)
    assert not done.ok and "no dead letter 1:5" in done.detail


def test_unparseable_bytes_are_kept_and_replayed_as_they_came(setup, bootstrap_servers):
    queue, origin = setup
    raw = b'{"case_id": "c-77", "person_ref": "psn-qqqqqqqqqq", broken'
    send_dead_letters(bootstrap_servers, queue.name, [(raw, Origin(origin, 1, 3, b"c-77"),
                                                       Handled(Outcome.UNPARSEABLE, "deserialize", error="bad json"))])
    queue.sync()
    ref = _only(queue)
    shown = queue.view(ref, KARI)
    assert shown["value_encoding"] == "text" and "c-77" not in shown["value"] and "psn-qqq" not in shown["value"]
    assert queue.replay([ref], KARI)[0].ok
    [copy] = read_topic(bootstrap_servers, origin)
    assert copy.value == raw and copy.key == b"c-77"


def test_a_routing_failure_is_replayed_marked_so_the_router_routes_it_again(setup, bootstrap_servers):
    queue, origin = setup
    poison(bootstrap_servers, queue.name, origin, "case-decide-1",
           handled=Handled(Outcome.FAILED, "decide", error="KeyError: 'x'"))
    queue.sync()
    ref = _only(queue)
    assert queue.replay([ref], KARI, "router fixed")[0].ok
    [copy] = read_topic(bootstrap_servers, origin)
    assert REPLAY_HEADER in dict(copy.headers)  # the router's ledger retries a stored routing error only then
