"""The terminal tables say what is wrong; the settings fail at start with the variable's name."""

from __future__ import annotations

import pytest
from rich.console import Console

from streams.health.errors import HealthSettingsProblem
from streams.health.render import render
from streams.health.report import BrokerHealth, ClusterHealth, DeadLetter, LatencySummary
from streams.health.settings import HealthSettings, load_health_settings
from streams.health.window import GroupView, Snapshot, Window

pytestmark = pytest.mark.unit
T = "veiviser.case-events.v1"


def text_of(report, **kwargs) -> str:
    console = Console(record=True, width=200)
    console.print(render(report, **kwargs))
    return console.export_text()


def stalled_report():
    cluster = ClusterHealth("c1", 1, 1, (BrokerHealth(1, "k1", 9092, True), BrokerHealth(2, None, None, False)),
                            (), (), topics=3, partitions=9)
    window = Window(3)
    for at in range(3):
        groups = (GroupView("veiviser-router", "Stable", 1, {(T, 0): 5, (T, 1): 9}, {(T, 0): "w1", (T, 1): "w1"}),)
        window.add(Snapshot(float(at), groups, {(T, 0): 10 + at, (T, 1): 9}, topics=(T,), cluster=cluster,
                            dead_letter_topic="dlq", dead_letter_total=2, dead_letter_end=2,
                            dead_letters_newest=(DeadLetter(0, 1, 1.0, "payload.case_id: missing", "intake",
                                                            None, None),)))
    return window.report(2.0, LatencySummary(15, 40, 0.8, 1.5, 2.5, 3.0, skewed=1))


def test_the_tables_show_the_stalled_partition_the_down_broker_dead_letters_and_latency():
    text = text_of(stalled_report())
    assert "health ERR" in text and "veiviser-router" in text
    assert f"{T}/0" in text and "STALL" in text and f"{T}/1" not in text  # caught-up partitions only with --all
    assert "DOWN" in text and "payload.case_id: missing" in text and "0.8" in text
    assert "broker 2 is down" in text


def test_all_partitions_lists_the_caught_up_ones_too():
    assert f"{T}/1" in text_of(stalled_report(), all_partitions=True)


def test_defaults_watch_the_project_groups():
    settings = HealthSettings()
    assert settings.watches("veiviser-router") and not settings.watches("test-1234")
    assert settings.shows_topic("veiviser.case-events.v1") and not settings.shows_topic("__consumer_offsets")
    assert HealthSettings(groups="a-*, b").group_patterns() == ("a-*", "b")


def test_a_bad_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("VEIVISER_HEALTH_WINDOW", "1")
    with pytest.raises(HealthSettingsProblem, match="VEIVISER_HEALTH_WINDOW"):
        load_health_settings()
    monkeypatch.delenv("VEIVISER_HEALTH_WINDOW")
    assert load_health_settings(interval_s=0.5, groups=None).interval_s == 0.5
