"""`veiviser deadletters list|show|replay|discard` on the real broker and database."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.integration.operators.support import forget, poison, read_topic
from veiviser.cli import _register, cli

pytestmark = pytest.mark.integration


@pytest.fixture
def run(bootstrap_servers, database_url, new_topic):
    dlq, origin = new_topic(3), new_topic(3)
    _register()
    runner = CliRunner()

    def invoke(*args: str, expect: int = 0) -> str:
        result = runner.invoke(cli, [*args, "--topic", dlq], catch_exceptions=False,
                               env={"COLUMNS": "200"}, obj=None)
        assert result.exit_code == expect, result.output
        return result.output

    yield invoke, dlq, origin
    forget(database_url, dlq)


def test_list_show_replay_and_discard_in_the_terminal(run, bootstrap_servers):
    invoke, dlq, origin = run
    event = poison(bootstrap_servers, dlq, origin, "case-cli-secret", offset=1)
    poison(bootstrap_servers, dlq, origin, "case-cli-other", offset=2)
    listed = invoke("deadletters", "list", "--origin", origin)
    assert "2 of 2 matching" in listed and "is not one of the services" in listed and "case-cli" not in listed
    ids = [line.split("│")[1].strip() for line in listed.splitlines() if "open" in line and "│" in line]
    assert len(ids) == 2

    shown = invoke("deadletters", "show", ids[1])
    assert "case.opened" in shown and "case-cli" not in shown and "masked" in shown

    replayed = invoke("deadletters", "replay", ids[1], "--why", "fixed in 2.3.1")
    assert "done" in replayed and "replayed to" in replayed
    [copy] = read_topic(bootstrap_servers, origin)
    assert json.loads(copy.value) == event
    refused = invoke("deadletters", "replay", ids[1], expect=1)
    assert "already replayed" in refused

    invoke("deadletters", "discard", "--all-matching", "--yes", "--why", "duplicate of a resent event")
    assert "0 of 0 matching" in invoke("deadletters", "list", "--status", "open")
    assert "discard" in invoke("deadletters", "show", ids[0]) and "cli:" in invoke("deadletters", "show", ids[0])


def test_a_bad_id_says_what_an_id_looks_like(run):
    invoke = run[0]
    assert "PARTITION:OFFSET" in invoke("deadletters", "show", "nope", expect=2)
