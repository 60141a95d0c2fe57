"""The field page in a real headless Chromium (Debian's package) against a real uvicorn server, PostgreSQL and
Kafka: the day's stops in order, the map drawn from our own outlines, completing a visit by tapping, and the
visit.completed event arriving on the broker. The page loads nothing from outside the service."""

from __future__ import annotations

import json

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.integration.events.kafka_read import read_all
from tests.integration.field.harness import field_app, serve
from tests.integration.field.seed import BODO, DAY, FAUSKE, ROGNAN, seeder, uid

pytestmark = pytest.mark.e2e
__all__ = ["seeder"]  # the fixture


@pytest.fixture
def site(bootstrap_servers, database_url, new_topic):
    worker = uid("w-page")
    with field_app(bootstrap_servers, database_url, new_topic(partitions=3), [worker]) as field, \
            serve(field.app) as url:
        yield field, url, worker


def stops_shown(browser) -> list:
    return WebDriverWait(browser, 20).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "#stops li.stop") or False)


def open_page(browser, url: str, token: str) -> list:
    browser.get(f"{url}/#token={token}&day={DAY.isoformat()}")
    return stops_shown(browser)


def test_the_page_shows_the_stops_in_order_on_a_map_and_completes_a_visit(browser, site, seeder, bootstrap_servers):
    field, url, worker = site
    stops = seeder.route(worker, [{"kind": "work", "at": BODO, "purpose": "work_oriented_follow_up"},
                                  {"kind": "school", "at": FAUSKE},
                                  {"kind": "home", "at": ROGNAN, "purpose": "debt_counselling"},
                                  {"kind": "home", "at": ROGNAN, "protected": "strictly_confidential"}])
    items = open_page(browser, url, field.token_of[worker])
    assert [i.get_attribute("data-visit") for i in items] == [s["visit_id"] for s in stops]
    assert [i.find_element(By.CSS_SELECTOR, ".seq").text for i in items] == ["1", "2", "3", "4"]
    assert "skjermet adresse" in items[3].text and "Saltdal" not in items[3].text and "Saltdal" in items[2].text
    assert "Bodø" in items[0].text and "Arbeidsrettet oppfølging" in items[0].text
    assert items[0].find_element(By.CSS_SELECTOR, ".eta").text.startswith("09:00")
    # the map: outlines from our own data, the route line and one numbered marker per stop shown at a place
    # (the protected person's home is not on the map)
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#map path.region"))
    assert browser.find_elements(By.CSS_SELECTOR, "#map path.muni[data-code='1804']")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#map polyline.route")) == 1
    assert [m.get_attribute("data-seq") for m in browser.find_elements(By.CSS_SELECTOR, "#map g.marker")] == \
        ["1", "2", "3"]
    # the token was taken out of the address and kept
    assert "token" not in browser.current_url
    assert browser.execute_script("return localStorage.getItem('veiviser.field.token')") == field.token_of[worker]

    items[1].find_element(By.CSS_SELECTOR, "button.complete").click()
    second = f"li[data-visit='{stops[1]['visit_id']}']"
    WebDriverWait(browser, 20).until(ready.text_to_be_present_in_element((By.CSS_SELECTOR, f"{second} .badge"),
                                                                         "Fullført"))
    assert browser.find_element(By.CSS_SELECTOR, f"{second} button.complete").get_attribute("disabled")
    [record] = read_all(bootstrap_servers, field.topic, expect=1)
    event = json.loads(record.value)
    assert event["event_name"] == "visit.completed"
    assert event["payload"]["visit_id"] == stops[1]["visit_id"] and event["payload"]["worker_id"] == worker
    assert record.key == stops[1]["case_id"].encode()


def test_could_not_meet_needs_a_reason_and_sends_it(browser, site, seeder, bootstrap_servers):
    field, url, worker = site
    [stop] = seeder.route(worker, [{"kind": "work", "at": BODO}])
    [item] = open_page(browser, url, field.token_of[worker])
    item.find_element(By.CSS_SELECTOR, "button.fail").click()
    assert "grunn" in browser.find_element(By.ID, "status").text
    Select(item.find_element(By.CSS_SELECTOR, "select.reason")).select_by_value("not_at_home")
    item.find_element(By.CSS_SELECTOR, "button.fail").click()
    WebDriverWait(browser, 20).until(ready.text_to_be_present_in_element(
        (By.CSS_SELECTOR, "#stops li.stop .badge"), "Ikke hjemme"))
    [record] = read_all(bootstrap_servers, field.topic, expect=1)
    assert json.loads(record.value)["payload"]["reason"] == "not_at_home"
    assert record.key == stop["case_id"].encode()


def test_the_page_asks_for_a_token_once_and_refuses_an_unknown_one(browser, site, seeder):
    field, url, worker = site
    seeder.route(worker, [{"kind": "work", "at": BODO}])
    browser.get(f"{url}/#day={DAY.isoformat()}")
    WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "login").is_displayed())
    browser.find_element(By.ID, "token").send_keys("not-a-known-token-" + "x" * 20)
    browser.find_element(By.CSS_SELECTOR, "#token-form button").click()
    WebDriverWait(browser, 10).until(ready.text_to_be_present_in_element((By.CSS_SELECTOR, ".hint"), "token"))
    browser.find_element(By.ID, "token").clear()
    browser.find_element(By.ID, "token").send_keys(field.token_of[worker])
    browser.find_element(By.CSS_SELECTOR, "#token-form button").click()
    assert len(stops_shown(browser)) == 1
    browser.refresh()  # kept: no second prompt
    assert len(stops_shown(browser)) == 1 and not browser.find_element(By.ID, "login").is_displayed()


def test_the_page_loads_nothing_from_outside_the_service():
    from services.field.app import STATIC

    for path in STATIC.iterdir():
        if path.suffix in (".html", ".js", ".css"):
            text = path.read_text()
            assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text, path
            assert "@import" not in text and "fonts.googleapis" not in text, path


def test_the_page_opens_without_a_network_and_shows_the_last_route(browser, bootstrap_servers, database_url,
                                                                    new_topic, seeder):
    worker = uid("w-page")
    stops = seeder.route(worker, [{"kind": "work", "at": BODO}, {"kind": "school", "at": FAUSKE}])
    with field_app(bootstrap_servers, database_url, new_topic(partitions=3), [worker]) as field:
        with serve(field.app) as url:
            open_page(browser, url, field.token_of[worker])
            WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#map path.region"))
            WebDriverWait(browser, 30).until(lambda b: b.execute_script("return !!navigator.serviceWorker.controller"))
        with pytest.raises(httpx.TransportError):  # the service is gone
            httpx.get(f"{url}/v1/health", timeout=2)
        browser.refresh()
        items = stops_shown(browser)
    assert [i.get_attribute("data-visit") for i in items] == [s["visit_id"] for s in stops]
    assert "Uten nett" in browser.find_element(By.ID, "status").text
    assert browser.find_elements(By.CSS_SELECTOR, "#map path.region")  # outlines kept too


def kept_keys(browser) -> list:
    return browser.execute_script(
        "return Object.keys(localStorage).filter(function (k) { return k.indexOf('veiviser.field.') === 0; }).sort()")


def _offline_after_seeing(browser, bootstrap_servers, database_url, new_topic, seeder, then) -> tuple:
    """Worker Anna sees her route online (kept for offline use); the service goes away; `then(url, field)`."""
    anna, bo = uid("w-page"), uid("w-page")
    stops = seeder.route(anna, [{"kind": "work", "at": BODO}, {"kind": "school", "at": FAUSKE}])
    with field_app(bootstrap_servers, database_url, new_topic(partitions=3), [anna, bo]) as field:
        with serve(field.app) as url:
            open_page(browser, url, field.token_of[anna])
            WebDriverWait(browser, 30).until(lambda b: b.execute_script("return !!navigator.serviceWorker.controller"))
            assert any(k.startswith("veiviser.field.route.") for k in kept_keys(browser))
        with pytest.raises(httpx.TransportError):  # the service is gone
            httpx.get(f"{url}/v1/health", timeout=2)
        then(url, field, bo)
    WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "login").is_displayed())
    assert not browser.find_elements(By.CSS_SELECTOR, "#stops li.stop")
    assert all(s["visit_id"] not in browser.page_source for s in stops)
    assert not any(k.startswith(("veiviser.field.route.", "veiviser.field.me")) for k in kept_keys(browser))
    return stops


def test_after_logout_another_token_offline_sees_nothing_of_the_previous_worker(browser, bootstrap_servers,
                                                                                 database_url, new_topic, seeder):
    def log_out_and_type_any_token(url, field, bo):
        browser.find_element(By.ID, "logout").click()
        WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "login").is_displayed())
        assert kept_keys(browser) == []  # every veiviser.field.* key gone, not only the token
        browser.find_element(By.ID, "token").send_keys("any-token-typed-by-someone-" + "y" * 10)
        browser.find_element(By.CSS_SELECTOR, "#token-form button").click()
        WebDriverWait(browser, 10).until(ready.text_to_be_present_in_element((By.CSS_SELECTOR, ".hint"), "Uten nett"))

    _offline_after_seeing(browser, bootstrap_servers, database_url, new_topic, seeder, log_out_and_type_any_token)


def test_another_workers_token_offline_never_sees_the_kept_route(browser, bootstrap_servers, database_url, new_topic,
                                                                  seeder):
    def give_another_token(url, field, bo):  # no logout: Bo's token given in the address on Anna's phone
        browser.get(f"{url}/#token={field.token_of[bo]}&day={DAY.isoformat()}")
        browser.refresh()

    _offline_after_seeing(browser, bootstrap_servers, database_url, new_topic, seeder, give_another_token)
