"""The field service's pure parts: token settings, what a stop shows, action checks, tokens."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from services.field.actions import _checked, failure_reasons
from services.field.auth import require_same, worker_of
from services.field.errors import BadAction, NotAuthenticated, NotYours
from services.field.settings import load_field_settings, parse_tokens
from services.field.stops import WITHHELD_PROTECTED, WITHHELD_UNKNOWN, route_view, stop_status
from veiviser.settings import SettingsError

pytestmark = pytest.mark.unit
TOKEN_A, TOKEN_B = "a" * 32, "b" * 32


def test_tokens_map_each_token_to_one_worker():
    assert parse_tokens(f"w-anna={TOKEN_A}, w-bjorn={TOKEN_B}") == {TOKEN_A: "w-anna", TOKEN_B: "w-bjorn"}


@pytest.mark.parametrize("text, says", [
    ("", "no worker_id=token"), (f"{TOKEN_A}", "entry 1"), ("w-anna=short", "shorter than 24"),
    (f"w-anna={TOKEN_A},w-bjorn={TOKEN_A}", "share a token"), (f"w anna={TOKEN_A}", "entry 1")])
def test_bad_tokens_say_what_is_wrong_and_never_echo_the_token(text, says):
    with pytest.raises(ValueError, match=says) as caught:
        parse_tokens(text)
    assert TOKEN_A not in str(caught.value)


def test_missing_tokens_fail_at_start_with_the_variable_name(monkeypatch):
    monkeypatch.delenv("VEIVISER_FIELD_TOKENS", raising=False)
    with pytest.raises(SettingsError, match="VEIVISER_FIELD_TOKENS"):
        load_field_settings()


def test_a_bearer_token_names_its_worker_and_only_that_worker():
    tokens = {TOKEN_A: "w-anna", TOKEN_B: "w-bjorn"}
    assert worker_of(f"Bearer {TOKEN_B}", tokens) == "w-bjorn"
    for header in ("", f"Basic {TOKEN_A}", "Bearer ", "Bearer " + "c" * 32):
        with pytest.raises(NotAuthenticated):
            worker_of(header, tokens)
    with pytest.raises(NotYours, match="w-bjorn"):
        require_same("w-anna", "w-bjorn")


def test_failure_reasons_come_from_the_visit_failed_schema_and_are_checked():
    assert "not_at_home" in failure_reasons() and "other" in failure_reasons()
    assert _checked("fail", "refused") == "refused"
    assert _checked("complete", None) is None
    with pytest.raises(BadAction, match="no reason"):
        _checked("fail", None)
    with pytest.raises(BadAction, match="only given"):
        _checked("complete", "refused")
    with pytest.raises(BadAction, match="unknown action"):
        _checked("delete", None)


def _stop(seq: int, kind: str, case_id: str, status: str = "planned"):
    eta = datetime(2026, 11, 24, 8, 0, tzinfo=UTC) + timedelta(hours=seq)
    return SimpleNamespace(seq=seq, visit_id=f"v-{seq:03d}", case_id=case_id, eta=eta,
                           departure=eta + timedelta(minutes=40), location_kind=kind, lon=14.40491, lat=67.28043,
                           purpose="guidance", status=status, language=None, fixed=False)


def _route(*stops):
    return SimpleNamespace(worker_id="w-anna", team_id="t-1", day=date(2026, 11, 24), version=2,
                           planned_at=datetime(2026, 11, 23, 18, 0, tzinfo=UTC), stops=stops)


def test_a_home_location_is_shown_only_when_the_person_is_known_to_be_unprotected():
    route = _route(_stop(1, "home", "c-none"), _stop(2, "home", "c-code6"), _stop(3, "home", "c-unknown"),
                   _stop(4, "work", "c-code6"), _stop(5, "school", "c-code7"), _stop(6, "work", "c-none"))
    protection = {"c-none": "none", "c-code6": "strictly_confidential", "c-code7": "confidential"}
    view = route_view(route, {}, protection, lambda lon, lat: "Bodø")
    shown = [(s["location"] is not None, s["municipality"], s["location_withheld"]) for s in view["stops"]]
    assert shown == [(True, "Bodø", None), (False, None, WITHHELD_PROTECTED), (False, None, WITHHELD_UNKNOWN),
                     (False, None, WITHHELD_PROTECTED), (False, None, WITHHELD_PROTECTED), (True, "Bodø", None)]


def test_times_are_local_and_the_duration_is_the_time_at_the_stop():
    [stop] = route_view(_route(_stop(1, "work", "c-1")), {}, {}, lambda lon, lat: None)["stops"]
    assert stop["eta"] == "2026-11-24T10:00:00+01:00" and stop["duration_minutes"] == 40


def test_the_workers_own_action_is_newer_than_the_planners_status():
    started = SimpleNamespace(outcome="started", reason=None)
    failed = SimpleNamespace(outcome="failed", reason="unsafe")
    assert stop_status("planned", None, None) == "planned"
    assert stop_status("planned", started, None) == "started"
    assert stop_status("started", started, failed) == "failed"
    assert stop_status("escalated", started, None) == "escalated"
