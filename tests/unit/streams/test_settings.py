"""Stream worker settings: defaults work, a bad value names its variable."""

from __future__ import annotations

import pytest

from events import topics
from streams.app import load_stream_settings
from streams.errors import SettingsProblem

pytestmark = pytest.mark.unit


def test_defaults_use_the_fixed_topic_names(monkeypatch):
    for name in ("GROUP", "CASE_EVENTS_TOPIC", "BATCH_SIZE"):
        monkeypatch.delenv(f"VEIVISER_STREAMS_{name}", raising=False)
    found = load_stream_settings()
    assert found.case_events_topic == topics.CASE_EVENTS and found.dead_letter_topic == topics.DEAD_LETTER
    assert found.followups_topic == "veiviser.followups.v1" and found.group == "veiviser-router"


def test_a_bad_value_names_the_variable_and_the_fix(monkeypatch):
    monkeypatch.setenv("VEIVISER_STREAMS_BATCH_SIZE", "0")
    with pytest.raises(SettingsProblem, match="VEIVISER_STREAMS_BATCH_SIZE='0'.*greater than or equal to 1"):
        load_stream_settings()


def test_bootstrap_wires_both_agents_on_the_configured_topics(tmp_path):
    from streams.app import StreamSettings, bootstrap

    stream = StreamSettings(group="wiring-test", case_events_topic="my.cases", office_status_topic="my.offices",
                            followups_topic="my.follow", dead_letter_topic="my.dead", ledger_consumer="wiring",
                            visit_events_topic="my.visits")
    wiring = bootstrap("127.0.0.1:1", "postgresql://nobody@127.0.0.1:1/none", str(tmp_path), stream)
    agents = list(wiring.app.agents.values())
    assert sorted(topic for agent in agents for topic in agent.channel.topics) == ["my.cases", "my.offices",
                                                                                         "my.visits"]
    assert all(agent.concurrency == 1 for agent in agents)
    assert wiring.ledger.consumer == "wiring" and wiring.agent.followups_topic == "my.follow"
    assert wiring.agent.dead_letter_topic == wiring.checker.dead_letter_topic == "my.dead"
    assert wiring.offices.topic == "my.offices" and wiring.app.conf.id == "wiring-test"
