"""The field app's HTTP edges that need no database or broker: tokens, bodies, the page's files."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.field import create_app

pytestmark = pytest.mark.unit
TOKEN = "t" * 32
ACT = "/v1/workers/w-anna/routes/2026-11-24/visits/v-001/fail"


@pytest.fixture
def client():
    with TestClient(create_app(None, {TOKEN: "w-anna"})) as client:  # no service: nothing may reach it
        yield client


def test_without_a_token_nothing_is_read_or_done(client):
    for response in (client.get("/v1/workers/w-anna/routes/2026-11-24"), client.post(ACT), client.get("/v1/me")):
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
        assert set(response.json()) == {"error", "fix"}


@pytest.mark.parametrize("body, says", [(b"{bad", "not JSON"), (b'{"why": 1}', "unexpected body"),
                                        (b'{"reason": 3}', "'reason' is not a string"), (b"[]", "unexpected body")])
def test_a_bad_action_body_is_422_naming_the_fix(client, body, says):
    response = client.post(ACT, content=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 422 and says in response.json()["error"] and response.json()["fix"]


def test_the_token_names_the_worker_and_the_reasons_come_with_it(client):
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert me["worker_id"] == "w-anna" and "not_at_home" in me["failure_reasons"]


def test_the_page_its_script_and_service_worker_are_served(client):
    assert "<ol id=\"stops\">" in client.get("/").text
    assert client.get("/static/field.js").status_code == 200
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and worker.headers["content-type"].startswith("text/javascript")
    assert "veiviser_field_requests_total" in client.get("/metrics").text
