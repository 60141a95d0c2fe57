"""What `veiviser run` starts, and the tokens it makes when the environment has none."""

from __future__ import annotations

import stat

import pytest

from events.simulator import SimulatorConfig
from infra.pipeline import FIELD_WORKERS, dev_tokens, first_token, parts
from services.field.settings import parse_tokens as field_tokens
from services.intake.settings import parse_tokens as intake_tokens
from services.operators.settings import parse_tokens as operator_tokens

pytestmark = pytest.mark.unit


def test_made_tokens_are_valid_for_each_service_private_and_new_each_run(tmp_path):
    made = dev_tokens({}, tmp_path)
    assert set(intake_tokens(made["VEIVISER_INTAKE_TOKENS"]).values()) == {"office-demo"}
    assert sorted(field_tokens(made["VEIVISER_FIELD_TOKENS"]).values()) == list(FIELD_WORKERS)
    assert [c.role for c in operator_tokens(made["VEIVISER_OPERATORS_TOKENS"]).values()] == ["operator"]
    kept = tmp_path / "dev-tokens.env"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert first_token(made["VEIVISER_FIELD_TOKENS"]) in kept.read_text()
    assert dev_tokens({}, tmp_path)["VEIVISER_FIELD_TOKENS"] != made["VEIVISER_FIELD_TOKENS"]


def test_tokens_the_environment_sets_are_kept_and_nothing_is_written(tmp_path):
    env = {"VEIVISER_INTAKE_TOKENS": "a=b", "VEIVISER_FIELD_TOKENS": "c=d", "VEIVISER_OPERATORS_TOKENS": "e:f=g"}
    assert dev_tokens(env, tmp_path) == {}
    assert not (tmp_path / "dev-tokens.env").exists()


def test_the_field_workers_are_the_simulators_and_the_simulator_starts_last():
    assert len(FIELD_WORKERS) == SimulatorConfig().workers
    plan = parts(events=10, rate=5, seed=3)
    assert [p.name for p in plan][-1] == "simulator" and plan[-1].delay_s > 0
    assert plan[-1].argv[-6:] == ("--events", "10", "--rate", "5", "--seed", "3")
    assert "simulator" not in [p.name for p in parts(10, 5, 3, simulate=False)]
