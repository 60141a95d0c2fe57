"""`veiviser bench plan --solomon FILE` and `veiviser worker planner --help`: the commands exist and bad
input names the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from veiviser.cli import main

pytestmark = pytest.mark.unit

SOLOMON = Path(__file__).parents[2] / "data" / "solomon" / "VV12.txt"


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main([*args])
        raise SystemExit(0)
    out = capsys.readouterr()
    return exit_.value.code, out.out, out.err


def test_bench_plan_solves_a_solomon_file_and_compares_with_the_best_known(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run(capsys, "bench", "plan", "--solomon", str(SOLOMON))
    assert code == 0
    row = next(line for line in out.splitlines() if "VV12" in line)
    assert "385.32" in row and "4 / 385.32" in row and "1.0000" in row


def test_a_file_that_is_not_solomon_is_refused_with_the_format(capsys, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("hello\n")
    code, out, err = run(capsys, "bench", "plan", "--solomon", str(bad))
    assert code == 2 and "not a Solomon instance" in out + err


def test_the_planner_worker_command_is_registered(capsys):
    code, out, _ = run(capsys, "worker", "planner", "--help")
    assert code == 0 and "VEIVISER_PLANNER_" in out


def test_field_route_shows_norwegian_time_and_defaults_to_the_norwegian_date():
    from datetime import UTC, date, datetime

    from veiviser.commands.planning import oslo_clock, oslo_today

    assert oslo_today(datetime(2026, 11, 23, 23, 30, tzinfo=UTC)) == date(2026, 11, 24)  # 00:30 in Oslo
    assert oslo_today(datetime(2026, 6, 30, 21, 59, tzinfo=UTC)) == date(2026, 6, 30)  # 23:59 summer time
    assert oslo_clock(datetime(2026, 11, 24, 8, 0, tzinfo=UTC)) == "09:00"
    assert oslo_clock(datetime(2026, 7, 1, 8, 0, tzinfo=UTC)) == "10:00"
