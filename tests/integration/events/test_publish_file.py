"""`veiviser publish FILE.jsonl` underneath: every line accounted for, rejects kept (masked) in a file."""

from __future__ import annotations

import json

import pytest

from events import topics
from events.filepublish import publish_file
from events.publisher import Publisher
from events.simulator import Simulator, SimulatorConfig
from tests.integration.events.kafka_read import read_all
from tests.unit.events.examples import VALID_FNR

pytestmark = pytest.mark.integration


def test_a_file_is_published_and_its_rejects_are_kept(bootstrap_servers, new_topic, tmp_path):
    topic_map = {name: new_topic(partitions=3) for name in
                 (topics.CASE_EVENTS, topics.OFFICE_STATUS, topics.FIELD_SHIFTS, topics.VISIT_EVENTS)}
    events = list(Simulator(SimulatorConfig(seed=21)).events(30))
    lines = [json.dumps(e) for e in events]
    lines.insert(5, "{not json")
    lines.insert(9, json.dumps({**events[0], "event_id": "e1", "note": f"fnr {VALID_FNR}"}))
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(lines) + "\n\n")
    seen = []
    with Publisher(bootstrap_servers, topic_map=topic_map) as publisher:
        summary = publish_file(source, publisher, tmp_path / "rejects.jsonl", seen.append)
    assert (summary.accepted, summary.rejected, summary.failed) == (30, 2, 0)
    assert sum(seen) == 32
    rejects = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rejects] == [6, 10]
    assert VALID_FNR not in json.dumps(rejects)
    assert any("identity number" in p["message"] for p in rejects[1]["problems"])
    published = sum(len(read_all(bootstrap_servers, t, timeout_s=3)) for t in topic_map.values())
    assert published == 30
