"""`veiviser simulate` says why events were not accepted and exits non-zero, so a script notices."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from events.problems import Problem
from events.publisher import Failed, Rejected
from veiviser.cli import _register, cli
from veiviser.commands import events as commands
from veiviser.settings import load_settings

pytestmark = pytest.mark.unit


def test_events_not_accepted_are_counted_by_reason_and_the_exit_status_is_1(monkeypatch):
    monkeypatch.setattr(commands, "_simulate_publish", lambda settings, events, advance: {
        "accepted": 3, "other": 2, "reasons": {"payload.case_id: is missing": 2}})
    _register()
    result = CliRunner().invoke(cli, ["simulate", "--events", "5"], obj=load_settings())
    assert result.exit_code == 1, result.output
    assert "3 accepted, 2 not accepted" in result.output and "2 x payload.case_id: is missing" in result.output


def test_the_reason_is_the_first_problem_or_the_error():
    rejected = Rejected("e-1", (Problem("payload.case_id", "is missing", "add it"), Problem("b", "c", "d")))
    assert commands._reason(rejected).startswith("payload.case_id")
    assert commands._reason(Failed("e-2", "broker away")) == "broker away"
