"""The README is the user's manual: its configuration table and commands must match the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.settings import GeoSettings
from services.field.settings import FieldSettings
from services.intake.settings import IntakeSettings
from services.operators.settings import OperatorsSettings
from streams.app import StreamSettings
from streams.health.settings import HealthSettings
from streams.planner_app import PlannerSettings
from veiviser.settings import Settings

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("settings_class", [Settings, IntakeSettings, GeoSettings, StreamSettings, FieldSettings,
                                            OperatorsSettings, HealthSettings, PlannerSettings])
def test_every_setting_is_documented_in_the_readme(settings_class):
    readme = (ROOT / "README.md").read_text()
    prefix = settings_class.model_config["env_prefix"]
    variables = [f"{prefix}{name.upper()}" for name in settings_class.model_fields]
    missing = [name for name in variables if f"`{name}`" not in readme]
    assert missing == [], f"README's configuration tables lack {missing}"


def test_ci_runs_the_readme_test_command():
    assert "`make test`" in (ROOT / "README.md").read_text()
    assert "make test" in (ROOT / ".ci" / "run").read_text().splitlines()[-1]
