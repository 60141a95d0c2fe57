"""The event commands as a user runs them (no broker needed for these)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from events.validation import check
from veiviser.cli import _register, cli

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def runner():
    _register()
    return CliRunner()


def test_simulate_writes_the_same_valid_file_for_the_same_seed(runner, tmp_path):
    for name in ("a.jsonl", "b.jsonl"):
        result = runner.invoke(cli, ["simulate", "--events", "200", "--seed", "5", "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    first = (tmp_path / "a.jsonl").read_text()
    assert first == (tmp_path / "b.jsonl").read_text()
    lines = first.splitlines()
    assert len(lines) == 200 and all(check(json.loads(line)).ok for line in lines)


def test_commands_are_registered(runner):
    for args in (["serve", "intake", "--help"], ["publish", "--help"], ["simulate", "--help"],
                 ["bench", "publish", "--help"]):
        assert runner.invoke(cli, args).exit_code == 0, args
