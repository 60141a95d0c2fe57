"""`veiviser route`: the decision and its explanation, as text and as JSON; bad input exits 2 with the fix."""

from __future__ import annotations

import json

import pytest

from veiviser.cli import main

pytestmark = pytest.mark.unit


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main([*args])
        raise SystemExit(0)
    out = capsys.readouterr()
    return exit_.value.code, out.out, out.err


def test_route_prints_json_with_the_decision(capsys):
    code, out, _ = run(capsys, "route", "--lat", "68.09696", "--lon", "16.37416", "--at", "2021-06-02T10:00",
                       "--json")
    decision = json.loads(out)
    assert code == 0
    assert (decision["outcome"], decision["point_id"], decision["boundary_edition"]) == (
        "office_appointment", "sp-1806", "kommuner-2020")
    assert decision["locations"][0]["municipality"] == "1806"


def test_route_explains_in_text_with_the_2019_boundaries(capsys):
    code, out, _ = run(capsys, "route", "--lat", "68.09696", "--lon", "16.37416", "--at", "2019-06-05T10:00")
    assert code == 0
    assert "1850" in out and "sp-1875" in out and "kommuner-2019" in out and "chosen" in out


def test_route_with_a_swapped_coordinate_exits_2_naming_the_fix(capsys):
    code, _, err = run(capsys, "route", "--lat", "200", "--lon", "16.4")
    assert code == 2 and "swap" in err
