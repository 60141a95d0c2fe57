"""The field API against the real PostgreSQL and Kafka: own route only, actions become events once, protected
persons never shown with a home location."""

from __future__ import annotations

import json
import uuid

import pytest
from fastapi.testclient import TestClient

from events.validation import check
from tests.integration.events.kafka_read import read_all
from tests.integration.field.harness import field_app, serve
from tests.integration.field.seed import BODO, DAY, FAUSKE, ROGNAN

pytestmark = pytest.mark.integration

STOP_FIELDS = {"seq", "visit_id", "case_id", "eta", "departure", "duration_minutes", "location_kind", "location",
               "municipality", "location_withheld", "purpose", "language", "fixed", "status", "reason"}


@pytest.fixture
def client(field):
    with TestClient(field.app) as client:
        yield client


def path(worker, day=DAY):
    return f"/v1/workers/{worker}/routes/{day.isoformat()}"


def test_a_worker_reads_their_route_in_order_with_minimum_data(field, client, seeder, workers):
    anna, _ = workers
    stops = seeder.route(anna, [{"kind": "work", "at": BODO, "purpose": "work_oriented_follow_up"},
                                {"kind": "school", "at": FAUSKE, "language": "uk"},
                                {"kind": "home", "at": ROGNAN, "purpose": "debt_counselling"}])
    response = client.get(path(anna), headers=field.headers(anna))
    assert response.status_code == 200, response.text
    route = response.json()
    assert [s["visit_id"] for s in route["stops"]] == [s["visit_id"] for s in stops]
    assert [s["seq"] for s in route["stops"]] == [1, 2, 3]
    assert [s["eta"][11:16] for s in route["stops"]] == ["09:00", "10:15", "11:30"]
    first, second, third = route["stops"]
    assert set(first) == STOP_FIELDS  # nothing more: no person reference, no name, no national id
    assert "psn-" not in response.text
    assert first["location"] == {"lon": BODO[0], "lat": BODO[1]} and first["municipality"] == "Bodø"
    assert second["municipality"] == "Fauske" and second["language"] == "uk"
    assert third["location"] == {"lon": ROGNAN[0], "lat": ROGNAN[1]} and third["municipality"] == "Saltdal"
    assert all(s["status"] == "planned" for s in route["stops"])


def test_another_workers_route_is_403_and_shows_nothing(field, client, seeder, workers):
    anna, bjorn = workers
    [stop] = seeder.route(anna, [{"kind": "work", "at": BODO}])
    response = client.get(path(anna), headers=field.headers(bjorn))
    assert response.status_code == 403
    assert bjorn in response.json()["error"] and response.json()["fix"]
    assert stop["visit_id"] not in response.text and stop["case_id"] not in response.text


def test_no_or_unknown_token_is_401(field, client, workers):
    anna, _ = workers
    assert client.get(path(anna)).status_code == 401
    response = client.get(path(anna), headers={"Authorization": "Bearer " + "x" * 32})
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert "token" in response.json()["error"]


def test_a_day_without_a_route_is_empty_and_a_bad_day_is_422(field, client, workers):
    anna, _ = workers
    empty = client.get(path(anna), headers=field.headers(anna))
    assert empty.status_code == 200 and empty.json()["stops"] == []
    bad = client.get(f"/v1/workers/{anna}/routes/24.11.2026", headers=field.headers(anna))
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.json()["fix"]


def test_complete_publishes_visit_completed_once_for_a_double_tap(field, client, seeder, workers, bootstrap_servers):
    anna, _ = workers
    [stop] = seeder.route(anna, [{"kind": "work", "at": BODO}])
    url = f"{path(anna)}/visits/{stop['visit_id']}/complete"
    first = client.post(url, headers=field.headers(anna))
    second = client.post(url, headers=field.headers(anna))
    assert (first.status_code, second.status_code) == (201, 200), first.text
    assert first.json()["duplicate"] is False and second.json()["duplicate"] is True
    assert second.json()["event_id"] == first.json()["event_id"]
    [record] = read_all(bootstrap_servers, field.topic, timeout_s=4)
    event = json.loads(record.value)
    assert check(event).ok
    assert record.key == stop["case_id"].encode()
    assert event["event_name"] == "visit.completed" and event["event_id"] == first.json()["event_id"]
    assert event["payload"] == {"case_id": stop["case_id"], "visit_id": stop["visit_id"], "worker_id": anna,
                                "completed_at": event["payload"]["completed_at"]}
    route = client.get(path(anna), headers=field.headers(anna)).json()
    assert route["stops"][0]["status"] == "completed"


def test_could_not_meet_publishes_visit_failed_with_the_reason(field, client, seeder, workers, bootstrap_servers):
    anna, _ = workers
    [stop] = seeder.route(anna, [{"kind": "work", "at": FAUSKE}])
    base = f"{path(anna)}/visits/{stop['visit_id']}"
    missing = client.post(f"{base}/fail", headers=field.headers(anna))
    assert missing.status_code == 422 and "not_at_home" in missing.json()["fix"]
    wrong = client.post(f"{base}/fail", headers=field.headers(anna), json={"reason": "dog"})
    assert wrong.status_code == 422 and "'dog'" in wrong.json()["error"]
    failed = client.post(f"{base}/fail", headers=field.headers(anna), json={"reason": "not_at_home"})
    assert failed.status_code == 201, failed.text
    conflict = client.post(f"{base}/complete", headers=field.headers(anna))
    assert conflict.status_code == 409 and "failed (not_at_home)" in conflict.json()["error"]
    [record] = read_all(bootstrap_servers, field.topic, timeout_s=4)
    event = json.loads(record.value)
    assert event["event_name"] == "visit.failed"
    assert event["payload"]["reason"] == "not_at_home" and event["payload"]["worker_id"] == anna
    route = client.get(path(anna), headers=field.headers(anna)).json()
    assert (route["stops"][0]["status"], route["stops"][0]["reason"]) == ("failed", "not_at_home")


def test_acting_on_another_workers_visit_is_403_and_publishes_nothing(field, client, seeder, workers,
                                                                      bootstrap_servers):
    anna, bjorn = workers
    [stop] = seeder.route(anna, [{"kind": "work", "at": BODO}])
    seeder.route(bjorn, [{"kind": "work", "at": FAUSKE}])
    own_path = f"{path(bjorn)}/visits/{stop['visit_id']}/complete"  # Bjørn's own route, Anna's visit
    assert client.post(own_path, headers=field.headers(bjorn)).status_code == 403
    other_path = f"{path(anna)}/visits/{stop['visit_id']}/complete"  # Anna's route with Bjørn's token
    assert client.post(other_path, headers=field.headers(bjorn)).status_code == 403
    unknown = client.post(f"{path(bjorn)}/visits/visit-nosuch/complete", headers=field.headers(bjorn))
    assert unknown.status_code == 404 and "visit-nosuch" in unknown.json()["error"]
    assert read_all(bootstrap_servers, field.topic, timeout_s=3) == []


def test_start_publishes_visit_started_once_and_a_finished_visit_cannot_start(field, client, seeder, workers,
                                                                              bootstrap_servers):
    anna, _ = workers
    first, second = seeder.route(anna, [{"kind": "work", "at": BODO}, {"kind": "work", "at": FAUSKE}])
    started = client.post(f"{path(anna)}/visits/{first['visit_id']}/start", headers=field.headers(anna))
    assert started.status_code == 201 and started.json()["outcome"] == "started"
    again = client.post(f"{path(anna)}/visits/{first['visit_id']}/start", headers=field.headers(anna))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    client.post(f"{path(anna)}/visits/{second['visit_id']}/complete", headers=field.headers(anna))
    late = client.post(f"{path(anna)}/visits/{second['visit_id']}/start", headers=field.headers(anna))
    assert late.status_code == 409 and "completed" in late.json()["error"]
    unknown = client.post(f"{path(anna)}/visits/{first['visit_id']}/finish", headers=field.headers(anna))
    assert unknown.status_code == 422 and "start, complete, fail" in unknown.json()["fix"]
    route = client.get(path(anna), headers=field.headers(anna)).json()
    assert [s["status"] for s in route["stops"]] == ["started", "completed"]
    records = read_all(bootstrap_servers, field.topic, expect=3, timeout_s=4)
    events = sorted((json.loads(r.value) for r in records), key=lambda e: e["event_name"])
    assert [(e["event_name"], e["payload"]["visit_id"]) for e in events] == \
        [("visit.completed", second["visit_id"]), ("visit.started", first["visit_id"])]
    assert events[1]["event_id"] == started.json()["event_id"] and check(events[1]).ok


@pytest.mark.parametrize("grading", ["strictly_confidential", "confidential", None])
def test_a_protected_person_is_never_shown_anywhere_and_an_unknown_one_never_at_home(field, client, seeder, workers, grading):
    anna, _ = workers
    home, work = seeder.route(anna, [{"kind": "home", "at": ROGNAN, "protected": grading},
                                     {"kind": "work", "at": BODO, "protected": grading}])
    response = client.get(path(anna), headers=field.headers(anna))
    shown_home, shown_work = response.json()["stops"]
    assert shown_home["location"] is None and shown_home["municipality"] is None
    assert shown_home["location_withheld"] == ("protection_unknown" if grading is None else "protected_address")
    assert str(ROGNAN[0]) not in response.text and str(ROGNAN[1]) not in response.text
    if grading is None:  # unknown grading: a workplace is not a home
        assert shown_work["location"] == {"lon": BODO[0], "lat": BODO[1]}
    else:  # a protected person's location is never shown, wherever they are
        assert shown_work["location"] is None and shown_work["location_withheld"] == "protected_address"
        assert str(BODO[0]) not in response.text and str(BODO[1]) not in response.text


def test_metrics_count_requests_and_actions_with_bounded_labels(field, client, seeder, workers):
    anna, _ = workers
    [stop] = seeder.route(anna, [{"kind": "work", "at": BODO}])
    client.get(path(anna), headers=field.headers(anna))
    client.post(f"{path(anna)}/visits/{stop['visit_id']}/complete", headers=field.headers(anna))
    client.post(f"{path(anna)}/visits/{stop['visit_id']}/complete", headers=field.headers(anna))
    text = client.get("/metrics").text
    assert 'veiviser_field_actions_total{action="complete",outcome="published"} 1.0' in text
    assert 'veiviser_field_actions_total{action="complete",outcome="duplicate"} 1.0' in text
    assert 'route="/v1/workers/{worker_id}/routes/{day}"' in text
    assert "veiviser_field_request_duration_seconds_bucket" in text
    assert anna not in text and stop["visit_id"] not in text


def test_the_outlines_cover_every_municipality_and_region(client):
    response = client.get("/v1/outlines", params={"day": DAY.isoformat()}, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["content-encoding"] == "gzip"
    outlines = response.json()
    codes = {f["properties"]["code"] for f in outlines["municipalities"]["features"]}
    assert {"1804", "1841", "1840", "5001"} <= codes and len(codes) == 79
    regions = {f["properties"]["region"] for f in outlines["regions"]["features"]}
    assert regions == {f["properties"]["region"] for f in outlines["municipalities"]["features"]}
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in outlines["regions"]["features"])


def test_a_tap_kafka_did_not_acknowledge_is_sent_again_with_the_same_event_id(bootstrap_servers, database_url,
                                                                              new_topic, seeder, workers):
    import psycopg2

    anna, _ = workers
    [stop] = seeder.route(anna, [{"kind": "work", "at": BODO}])
    url = f"{path(anna)}/visits/{stop['visit_id']}/complete"
    absent = f"test.absent.{uuid.uuid4().hex[:12]}"  # the broker does not create topics: no acknowledgement
    with field_app(bootstrap_servers, database_url, absent, [anna], timeout_s=3, max_block_ms=1500) as broken, \
            TestClient(broken.app) as client:
        refused = client.post(url, headers=broken.headers(anna))
    assert refused.status_code == 503 and "same event" in refused.json()["fix"]
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT status, event->>'event_id' FROM field_visit_actions WHERE visit_id = %s", (stop["visit_id"],))
        [(status, kept_id)] = cur.fetchall()
    assert status == "pending"
    topic = new_topic(partitions=3)
    with field_app(bootstrap_servers, database_url, topic, [anna]) as field, TestClient(field.app) as client:
        again = client.post(url, headers=field.headers(anna))
    assert again.status_code == 201 and again.json() | {"duplicate": False} == again.json()
    assert again.json()["event_id"] == kept_id
    [record] = read_all(bootstrap_servers, topic, expect=1)
    assert json.loads(record.value)["event_id"] == kept_id


def test_simultaneous_taps_publish_one_event(field, seeder, workers, bootstrap_servers):
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    anna, _ = workers
    [stop] = seeder.route(anna, [{"kind": "work", "at": BODO}])
    with serve(field.app) as base, httpx.Client(base_url=base, headers=field.headers(anna), timeout=60) as http, \
            ThreadPoolExecutor(4) as pool:
        url = f"{path(anna)}/visits/{stop['visit_id']}/fail"
        answers = list(pool.map(lambda _: http.post(url, json={"reason": "refused"}), range(4)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    assert len({a.json()["event_id"] for a in answers}) == 1
    assert len(read_all(bootstrap_servers, field.topic, timeout_s=4)) == 1


def test_a_visit_handed_over_mid_day_is_started_anew_by_the_colleague(field, client, seeder, workers, database_url,
                                                                      bootstrap_servers):
    import psycopg2

    anna, bjorn = workers
    [stop] = seeder.route(anna, [{"kind": "work", "at": BODO}])
    base = f"visits/{stop['visit_id']}"
    assert client.post(f"{path(anna)}/{base}/start", headers=field.headers(anna)).status_code == 201
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:  # Anna off sick: the planner gives it to Bjørn
        cur.execute("UPDATE planning_route_plans SET worker_id = %s WHERE worker_id = %s", (bjorn, anna))
    conn.close()
    shown = client.get(path(bjorn), headers=field.headers(bjorn)).json()["stops"]
    assert [s["status"] for s in shown] == ["planned"]  # Anna's start is not Bjørn's
    started = client.post(f"{path(bjorn)}/{base}/start", headers=field.headers(bjorn))
    assert started.status_code == 201 and started.json()["duplicate"] is False
    assert client.post(f"{path(bjorn)}/{base}/start", headers=field.headers(bjorn)).json()["duplicate"] is True
    assert client.post(f"{path(bjorn)}/{base}/complete", headers=field.headers(bjorn)).status_code == 201
    events = [json.loads(r.value) for r in read_all(bootstrap_servers, field.topic, expect=3, timeout_s=4)]
    assert sorted((e["event_name"], e["payload"]["worker_id"]) for e in events) == [
        ("visit.completed", bjorn), ("visit.started", anna), ("visit.started", bjorn)]
