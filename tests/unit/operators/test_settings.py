"""The console's settings: tokens are required, named and checked at start."""

from __future__ import annotations

import pytest

from services.operators.settings import Caller, load_operators_settings, parse_tokens
from veiviser.settings import SettingsError

pytestmark = pytest.mark.unit
TOKEN = "t" * 24


def test_missing_tokens_fail_at_start_naming_the_variable(monkeypatch):
    monkeypatch.delenv("VEIVISER_OPERATORS_TOKENS", raising=False)
    with pytest.raises(SettingsError, match="VEIVISER_OPERATORS_TOKENS"):
        load_operators_settings()


@pytest.mark.parametrize(("text", "says"), [
    ("kari=" + TOKEN, "name:role=token"),
    ("kari:boss=" + TOKEN, "use one of viewer, operator, privileged"),
    ("kari:operator=short", "shorter than 24"),
    (",", "no name:role=token"),
])
def test_bad_tokens_say_what_is_wrong_without_the_token(text, says):
    with pytest.raises(ValueError, match=says) as caught:
        parse_tokens(text)
    assert TOKEN not in str(caught.value)


def test_tokens_map_to_callers_and_roles_rank():
    callers = parse_tokens(f"kari:operator={TOKEN}, ola:privileged={'p' * 30},wall:viewer={'v' * 25}")
    assert callers[TOKEN] == Caller("kari", "operator")
    assert callers["p" * 30].privileged and callers["p" * 30].may("operator")
    assert callers["v" * 25].may("viewer") and not callers["v" * 25].may("operator")
    assert not callers[TOKEN].may("privileged")


def test_settings_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("VEIVISER_OPERATORS_TOKENS", f"kari:operator={TOKEN}")
    monkeypatch.setenv("VEIVISER_OPERATORS_PORT", "9999")
    settings = load_operators_settings()
    assert settings.port == 9999 and settings.callers() == {TOKEN: Caller("kari", "operator")}
