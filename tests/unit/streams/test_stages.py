"""The agent stages as a pure function: every message ends in exactly one outcome, none is dropped."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.identity import is_identity_number
from events.problems import Problem
from streams.errors import TransientError
from streams.retry import Backoff, retry_async
from streams.stages import Origin, Outcome, Output, Stages, dead_letter, handle

pytestmark = pytest.mark.unit
FNR = "01010012356"  # valid check digits (a synthetic test number)


def _validate(doc: dict) -> list[Problem]:
    return [Problem("n", f"{doc['n']} is negative", "send n >= 0")] if doc["n"] < 0 else []


def _decide(doc: dict) -> list[Output]:
    if doc["n"] == 13:
        raise KeyError("thirteen")
    if doc["n"] == 99:
        raise TransientError("database away")
    return [Output("out", b"k", json.dumps({"double": doc["n"] * 2}).encode())]


STAGES = Stages("doubler", json.loads, lambda doc: doc.get("kind") == "mine", _validate, _decide)


@pytest.mark.parametrize(
    ("raw", "outcome", "stage"),
    [
        (b'{"kind": "mine", "n": 2}', Outcome.OK, "decide"),
        (b'{"kind": "theirs", "n": 2}', Outcome.SKIPPED, "precondition"),
        (b'{"kind": "mine", "n": -1}', Outcome.REJECTED, "validate"),
        (b"\xff not json", Outcome.UNPARSEABLE, "deserialize"),
        (b'{"kind": "mine"}', Outcome.FAILED, "validate"),  # validate itself raised KeyError
        (b'{"kind": "mine", "n": 13}', Outcome.FAILED, "decide"),
    ],
)
def test_each_way_a_message_goes_is_one_outcome(raw, outcome, stage):
    handled = handle(STAGES, raw)
    assert (handled.outcome, handled.stage) == (outcome, stage)
    assert handled.dead_lettered == (outcome in {Outcome.REJECTED, Outcome.UNPARSEABLE, Outcome.FAILED})


def test_ok_produces_the_decision():
    assert handle(STAGES, b'{"kind": "mine", "n": 21}').outputs == (Output("out", b"k", b'{"double": 42}'),)


def test_transient_errors_escape_to_be_retried_not_dead_lettered():
    with pytest.raises(TransientError):
        handle(STAGES, b'{"kind": "mine", "n": 99}')


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise(raw):
    assert handle(STAGES, raw).outcome in set(Outcome)


def test_dead_letter_keeps_the_bytes_reasons_and_origin_and_masks_identity_numbers():
    raw = json.dumps({"kind": "mine", "n": -5, "note": f"fnr {FNR}"}).encode()
    handled = handle(STAGES, raw)
    record = dead_letter(handled, raw, Origin("veiviser.case-events.v1", 4, 1234, b"case-1"), "router", "dlt")
    headers = {name: value.decode() for name, value in record.headers}
    assert record.topic == "dlt" and record.key == b"case-1"
    assert FNR not in record.value.decode() and b'"n": -5' in record.value
    assert headers["dlq_origin_topic"] == "veiviser.case-events.v1"
    assert (headers["dlq_origin_partition"], headers["dlq_origin_offset"]) == ("4", "1234")
    assert headers["dlq_outcome"] == "rejected" and headers["dlq_severity"] == "rejected"
    assert json.loads(headers["dlq_problems"]) == [{"path": "n", "message": "-5 is negative", "fix": "send n >= 0"}]
    assert headers["dlq_source"] == "stream:router"


def test_failure_error_text_is_masked_and_marked_severe():
    raw = json.dumps({"who": FNR}).encode()
    handled = handle(Stages("x", json.loads, lambda _d: True, lambda _d: [], _boom), raw)
    assert handled.outcome is Outcome.FAILED and FNR not in handled.error
    headers = dict(dead_letter(handled, raw, Origin("t", 0, 0), "x", "dlt").headers)
    assert headers["dlq_severity"] == b"severe" and headers["dlq_stage"] == b"decide"


def _boom(doc: dict):
    raise ValueError(f"cannot route {doc['who']}")


def test_retry_backs_off_then_succeeds():
    calls, delays = [], []

    async def flaky():
        calls.append(1)
        if len(calls) < 4:
            raise TransientError("away")
        return "done"

    async def sleep(seconds):
        delays.append(seconds)

    result = asyncio.run(retry_async(flaky, Backoff(first_s=1, max_s=3), sleep=sleep))
    assert result == "done" and len(calls) == 4
    # doubling, capped at 3, with +-20 % jitter (rounding would flake: 3 * 0.8 rounds to 2)
    assert all(base * 0.8 <= d <= base * 1.2 for d, base in zip(delays, [1, 2, 3], strict=True))


def test_retry_gives_up_when_told():
    async def always():
        raise TransientError("away")

    async def sleep(_seconds):
        return None

    with pytest.raises(TransientError):
        asyncio.run(retry_async(always, Backoff(give_up_after=3), sleep=sleep))


def test_a_negative_count_is_logged_and_never_stops_the_worker(caplog):
    from prometheus_client import REGISTRY

    from streams import metrics

    labels = {"agent": "count-test", "outcome": "ok"}
    metrics.count("count-test", "ok", 2)
    metrics.count("count-test", "ok", -1)
    assert REGISTRY.get_sample_value("veiviser_stream_messages_total", labels) == 2
    assert "negative count -1" in caplog.text


def test_a_dead_letter_masks_an_identity_number_in_the_key_and_in_exponent_form():
    number = "31129910065"  # valid check digits, and no leading zero, so it can be a JSON number
    exponent = b"3.1129910065e10"  # the same number in exponent form
    assert is_identity_number(number) and float(exponent) == int(number)
    raw = b'{"kind": "mine", "n": ' + exponent + b"}"
    record = dead_letter(handle(STAGES, raw), raw, Origin("t", 0, 1, FNR.encode()), "router", "dlt")
    assert FNR.encode() not in record.key and record.key == b"*" * 11
    assert exponent not in record.value and number not in record.value.decode()


def test_a_dead_letter_too_large_for_kafka_is_cut_and_says_how_large_it_was():
    from streams.stages import DEAD_LETTER_MAX_BYTES

    raw = b'{"kind": "mine", "pad": "' + b"x" * (DEAD_LETTER_MAX_BYTES * 2) + b'"}'
    record = dead_letter(handle(STAGES, raw), raw, Origin("t", 3, 9, b"k"), "router", "dlt")
    headers = dict(record.headers)
    assert len(record.value) == DEAD_LETTER_MAX_BYTES and raw.startswith(record.value)
    assert headers["dlq_truncated_from"] == str(len(raw)).encode() and headers["dlq_origin_offset"] == b"9"


def test_a_long_garbage_collection_is_logged_with_its_pause(caplog):
    import time

    from streams import worker

    worker._log_long_collections("start", {"generation": 2})
    time.sleep(worker.LONG_COLLECTION_MS / 1000 * 1.5)
    worker._log_long_collections("stop", {"generation": 2, "collected": 7})
    worker._log_long_collections("start", {"generation": 0})
    worker._log_long_collections("stop", {"generation": 0, "collected": 0})  # quick: not logged
    assert [r.getMessage().split(" paused")[0] for r in caplog.records] == ["garbage collection of generation 2"]
