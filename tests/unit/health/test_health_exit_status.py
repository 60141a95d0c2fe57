"""`veiviser health` says what its exit status means the same way in its docstring, its --help and the README:
0 OK or WARN, 1 ERR, 2 cluster unreachable (the behaviour: HealthReport.exit_code and the CLI's error exit)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import veiviser.commands.health as command
from streams.health.errors import ClusterUnreachable
from veiviser.cli import _known_errors, _register, cli

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[3]


def said(text: str) -> dict[str, str]:
    """The exit status each text gives for ERR and for an unreachable cluster."""
    text = " ".join(text.split())
    err = re.search(r"\b([0-9]) when (?:anything |something )?(?:is )?ERR", text)
    down = re.search(r"([0-9]) when the cluster cannot be\s+reached", text)
    return {"err": err and err.group(1), "unreachable": down and down.group(1)}


def test_the_docstring_the_help_and_the_readme_give_the_exit_status_the_command_has():
    _register()
    help_text = CliRunner().invoke(cli, ["health", "--help"], catch_exceptions=False).output
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Stream health and monitoring"):]
    behaviour = {"err": "1", "unreachable": "2"}
    assert any(issubclass(ClusterUnreachable, known) for known in _known_errors())  # exit 2 in veiviser.cli
    for where, text in (("docstring", command.__doc__), ("--help", help_text), ("README", section)):
        assert said(text) == behaviour, f"{where} says {said(text)}, the command does {behaviour}"
