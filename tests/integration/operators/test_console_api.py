"""The console's HTTP API: roles, masking for operators, unmasked (audited) for the privileged, counts."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from services.operators import Monitor, create_app
from services.operators.settings import parse_tokens
from tests.integration.operators.support import TOKEN_TEXT, bearer, close_queue, open_queue, poison

pytestmark = pytest.mark.integration


@pytest.fixture
def console(bootstrap_servers, database_url, new_topic):
    dlq, origin = new_topic(3), new_topic(3)
    queue = open_queue(bootstrap_servers, database_url, dlq)
    monitor = Monitor(None, queue.sync, queue.summary, interval_s=1)
    client = TestClient(create_app(queue, monitor, parse_tokens(TOKEN_TEXT)))
    yield client, monitor, queue, origin
    close_queue(queue, database_url)


OPERATOR_ENDPOINTS = [("get", "/api/deadletters", None), ("get", "/api/deadletters/0/0", None),
                      ("post", "/api/deadletters/replay", {"refs": ["0:0"]}),
                      ("post", "/api/deadletters/discard", {"refs": ["0:0"], "why": "x"}), ("get", "/api/audit", None)]


@pytest.mark.parametrize(("method", "path", "body"), OPERATOR_ENDPOINTS)
def test_dead_letter_endpoints_need_the_operator_role(console, method, path, body):
    client = console[0]
    assert getattr(client, method)(path, **({"json": body} if body else {})).status_code == 401
    wrong = {"Authorization": "Bearer " + "x" * 32}
    assert getattr(client, method)(path, headers=wrong, **({"json": body} if body else {})).status_code == 401
    answer = getattr(client, method)(path, headers=bearer("viewer"), **({"json": body} if body else {}))
    assert answer.status_code == 403 and "operator" in answer.json()["error"] and answer.json()["fix"]


def test_errors_the_api_answers_say_what_was_wrong_and_the_fix(console):
    client = console[0]
    answers = {
        401: client.get("/api/deadletters"),
        403: client.get("/api/deadletters", headers=bearer("viewer")),
        404: client.get("/api/deadletters/2/999999", headers=bearer("operator")),
        409: client.post("/api/deadletters/discard", json={"refs": ["0:0"], "why": ""}, headers=bearer("operator")),
        422: client.post("/api/deadletters/replay", json={"refs": []}, headers=bearer("operator")),
    }
    for status, answer in answers.items():
        body = answer.json()
        assert answer.status_code == status and set(body) >= {"error", "fix"} and "detail" not in body, (status, body)
        assert body["error"] and body["fix"]
    assert answers[401].headers["WWW-Authenticate"] == "Bearer"
    assert "no dead letter" in answers[404].json()["error"] and "/api/deadletters" in answers[404].json()["fix"]
    assert "refs" in answers[422].json()["error"] and answers[422].json()["problems"][0]["loc"][-1] == "refs"
    unknown = client.get("/api/nothing-here", headers=bearer("operator"))
    assert unknown.status_code == 404 and set(unknown.json()) == {"error", "fix"}


def test_a_viewer_sees_health_and_counts_only(console):
    client = console[0]
    assert client.get("/api/snapshot").status_code == 401
    assert client.get("/api/snapshot", headers=bearer("viewer")).status_code == 200
    assert client.get("/api/me", headers=bearer("viewer")).json() == {"name": "wall", "role": "viewer",
                                                                      "operator": False, "privileged": False}
    assert client.get("/v1/health").status_code == 200 and client.get("/").status_code == 200


def test_the_dead_letter_count_rises_and_operators_see_it_masked(console, bootstrap_servers):
    client, monitor, queue, origin = console
    before = monitor.tick()["dead_letters"]["open"]
    poison(bootstrap_servers, queue.name, origin, "case-api-secret")
    snapshot = monitor.tick()
    assert snapshot["dead_letters"]["open"] == before + 1 and snapshot["series"][-1]["open"] == before + 1
    assert client.get("/api/snapshot", headers=bearer("viewer")).json()["dead_letters"]["open"] == before + 1
    listed = client.get("/api/deadletters", params={"origin": origin}, headers=bearer("operator")).json()
    assert listed["total"] == 1
    ref = listed["items"][0]["ref"]
    partition, offset = ref.split(":")
    shown = client.get(f"/api/deadletters/{partition}/{offset}", headers=bearer("operator"))
    assert shown.status_code == 200 and shown.json()["masked"]
    assert "case-api-secret" not in shown.text and "psn-abcdefghjkmn" not in shown.text and "67.2811" not in shown.text
    assert json.loads(shown.json()["value"])["payload"]["services"] == ["guidance"]


def test_only_the_privileged_see_personal_data_and_that_is_audited(console, bootstrap_servers):
    client, monitor, queue, origin = console
    poison(bootstrap_servers, queue.name, origin, "case-api-private")
    monitor.tick()
    ref = client.get("/api/deadletters", headers=bearer("operator")).json()["items"][0]["ref"]
    path = "/api/deadletters/{}/{}".format(*ref.split(":"))
    refused = client.get(path, params={"unmasked": "true"}, headers=bearer("operator"))
    assert refused.status_code == 403 and "privileged" in refused.json()["error"]
    shown = client.get(path, params={"unmasked": "true"}, headers=bearer("privileged")).json()
    assert not shown["masked"] and json.loads(shown["value"])["payload"]["case_id"] == "case-api-private"
    assert shown["key"] == "case-api-private"
    audit = client.get("/api/audit", headers=bearer("operator")).json()["items"]
    assert [(a["action"], a["actor"], a["role"]) for a in audit] == [("view_unmasked", "ola", "privileged")]


def test_replay_and_discard_through_the_api(console, bootstrap_servers):
    client, monitor, queue, origin = console
    poison(bootstrap_servers, queue.name, origin, "case-api-1", offset=1)
    poison(bootstrap_servers, queue.name, origin, "case-api-2", offset=2)
    monitor.tick()
    refs = [i["ref"] for i in client.get("/api/deadletters", headers=bearer("operator")).json()["items"]]
    done = client.post("/api/deadletters/replay", json={"refs": refs[:1], "why": "fixed"}, headers=bearer("operator"))
    assert done.status_code == 200 and done.json()["done"] == 1
    both = client.post("/api/deadletters/replay", json={"refs": refs}, headers=bearer("operator"))
    assert both.status_code == 207 and [r["ok"] for r in both.json()["results"]] == [False, True]
    again = client.post("/api/deadletters/discard", json={"refs": refs, "why": ""}, headers=bearer("operator"))
    assert again.status_code == 409 and "say why" in again.json()["error"]
    bad = client.post("/api/deadletters/replay", json={"refs": ["nope"]}, headers=bearer("operator"))
    assert bad.status_code == 422 and "PARTITION:OFFSET" in bad.json()["fix"]
    assert client.get("/api/deadletters", params={"status": "replayed"}, headers=bearer("operator")).json()["total"] == 2


def test_metrics_have_base_units_and_bounded_labels(console, bootstrap_servers):
    client, monitor, queue, origin = console
    poison(bootstrap_servers, queue.name, origin, "case-metrics-1")
    monitor.tick()
    text = client.get("/metrics").text
    assert "veiviser_operators_dead_letters_indexed_total" in text
    assert f'veiviser_operators_dead_letters_open{{origin="{origin}",stage="validate"}} 1.0' in text
    assert "veiviser_operators_sample_duration_seconds_count" in text
    assert "case-metrics-1" not in text
