"""The README is the user's manual: its configuration table and commands must match the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from veiviser.settings import ENV_PREFIX, Settings

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [ENV_PREFIX + name.upper() for name in Settings.model_fields if f"`{ENV_PREFIX}{name.upper()}`" not in readme]
    assert missing == [], f"README's configuration table lacks {missing}"


def test_ci_runs_the_readme_test_command():
    assert "`make test`" in (ROOT / "README.md").read_text()
    assert "make test" in (ROOT / ".ci" / "run").read_text().splitlines()[-1]
