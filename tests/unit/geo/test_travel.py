"""Travel time: the great-circle model and the OSRM table backend (against a local fake server)."""

from __future__ import annotations

import json
import math
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from geo import GreatCircleModel, OsrmTableModel, Spot, TravelBackendError, default_model
from geo.travel import TravelParams, great_circle_km

pytestmark = pytest.mark.unit

BODO, TRONDHEIM = (14.40501, 67.28), (10.39506, 63.43049)


def test_great_circle_distance_bodo_trondheim():
    assert great_circle_km(*BODO, *TRONDHEIM) == pytest.approx(475, abs=10)
    assert great_circle_km(*BODO, *BODO) == 0


def test_minutes_are_distance_times_circuity_over_speed_plus_ferry_legs():
    model = GreatCircleModel(TravelParams(1.5, 60, 40))
    km = great_circle_km(*BODO, *TRONDHEIM)
    mainland, island_a, island_b = Spot(*BODO, land=0), Spot(*TRONDHEIM, land=3, mainland=False), Spot(
        *TRONDHEIM, land=4, mainland=False)
    got = model.minutes(mainland, [Spot(*TRONDHEIM, land=0), island_a])
    assert got == pytest.approx([km * 1.5, km * 1.5 + 40])
    assert model.minutes(island_b, [island_a]) == pytest.approx([80])  # two islands: two legs


def test_regions_can_override_parameters():
    model = default_model()
    assert model.params("126").ferry_leg_minutes == 0
    assert model.params("126").circuity == model.default.circuity
    assert model.params("999") is model.default


class _FakeOsrm(BaseHTTPRequestHandler):
    answers: list[dict] = []
    seen: list[str] = []

    def do_GET(self):  # noqa: N802
        self.seen.append(self.path)
        body = json.dumps(self.answers.pop(0)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def osrm():
    server = HTTPServer(("127.0.0.1", 0), _FakeOsrm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", _FakeOsrm
    server.shutdown()
    server.server_close()


def test_osrm_table_durations_become_minutes(osrm):
    url, fake = osrm
    fake.answers[:] = [{"code": "Ok", "durations": [[0, 600, None]]}]
    got = OsrmTableModel(url).minutes(Spot(*BODO), [Spot(*TRONDHEIM), Spot(15.0, 68.0)])
    assert got[0] == 10 and math.isinf(got[1])
    assert fake.seen[-1].startswith("/table/v1/driving/14.405010,67.280000;10.395060,63.430490;15.000000,68.000000")
    assert "sources=0" in fake.seen[-1]


def test_osrm_errors_are_travel_backend_errors(osrm):
    url, fake = osrm
    fake.answers[:] = [{"code": "NoTable", "message": "no"}, {"code": "Ok", "durations": [[0]]}]
    with pytest.raises(TravelBackendError, match="NoTable"):
        OsrmTableModel(url).minutes(Spot(*BODO), [Spot(*TRONDHEIM)])
    with pytest.raises(TravelBackendError, match="unusable"):
        OsrmTableModel(url).minutes(Spot(*BODO), [Spot(*TRONDHEIM)])
    with pytest.raises(TravelBackendError, match="failed"):
        OsrmTableModel("http://127.0.0.1:9", timeout_s=1).minutes(Spot(*BODO), [Spot(*TRONDHEIM)])


def test_settings_choose_osrm_only_when_configured(monkeypatch):
    from geo.errors import GeoInputError
    from geo.settings import load_geo_settings, travel_model

    monkeypatch.delenv("VEIVISER_GEO_OSRM_URL", raising=False)
    assert travel_model(load_geo_settings()) is default_model()
    monkeypatch.setenv("VEIVISER_GEO_OSRM_URL", "http://127.0.0.1:5000")
    assert isinstance(travel_model(load_geo_settings()), OsrmTableModel)
    monkeypatch.setenv("VEIVISER_GEO_OSRM_URL", "osrm.local")
    with pytest.raises(GeoInputError, match="VEIVISER_GEO_OSRM_URL='osrm.local'"):
        load_geo_settings()


def test_the_router_works_with_the_osrm_backend(osrm):
    from geo import Case, Outcome, PersonLocation, Router

    url, fake = osrm
    fake.answers[:] = [{"code": "Ok", "durations": [[0, 1200.0]]}]  # Bodø: one serving point, 20 min away
    decision = Router(travel=OsrmTableModel(url)).route(
        Case("c", [PersonLocation("home", 14.41, 67.281)]), at="2021-03-03T10:00")
    assert decision.outcome is Outcome.OFFICE_APPOINTMENT and decision.travel_minutes == 20
    assert decision.travel_model == "osrm"
