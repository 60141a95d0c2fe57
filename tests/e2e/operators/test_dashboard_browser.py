"""The dashboard in a real headless Chromium: it loads offline, its charts have data, replay by clicking works."""

from __future__ import annotations

import json
import uuid

import psycopg2
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from services.operators import OperatorsSettings
from services.operators.deadletters import REPLAY_OF
from streams.health import load_health_settings
from tests.integration.operators.support import TOKEN_TEXT, TOKENS, RunningConsole, forget, poison, read_topic

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def lagging_group(bootstrap_servers: str, topic: str, group: str) -> None:
    """A group that committed part of a topic: lag on every partition."""
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    for n in range(60):
        producer.send(topic, value=f"m{n}".encode(), partition=n % 3)
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=group, enable_auto_commit=False)
    consumer.commit({TopicPartition(topic, p): OffsetAndMetadata(5, "", -1) for p in range(3)})
    consumer.close()


DECISIONS = 20
DECIDED = """INSERT INTO streams_case_audit (case_id, seq, entry, event_id, event_name, occurred_at, detail)
             VALUES (%s, 1, 'decision', gen_random_uuid(), 'case.opened', now() - make_interval(secs => %s), '{}')"""


def decisions(database_url: str, prefix: str, count: int) -> None:
    """`count` decisions recorded now, 1..count seconds after their events: the latency chart's data."""
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        for n in range(1, count + 1):
            cur.execute(DECIDED, (f"{prefix}{n}", float(n)))
    conn.close()


def forget_decisions(database_url: str, prefix: str) -> None:
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM streams_case_audit WHERE case_id LIKE %s", (prefix + "%",))
    conn.close()


@pytest.fixture
def console(bootstrap_servers, database_url, new_topic, new_group, settings):
    dlq, origin, watched = new_topic(3), new_topic(3), new_topic(3)
    group = new_group("veiviser-e2e-dash")
    lagging_group(bootstrap_servers, watched, group)
    prefix = f"e2e-latency-{uuid.uuid4().hex[:12]}-"
    decisions(database_url, prefix, DECISIONS)  # before the console starts: its first sample reads the latency
    running = RunningConsole(settings, OperatorsSettings(tokens=TOKEN_TEXT, dead_letter_topic=dlq,
                                                         sample_interval_s=1),
                             load_health_settings(groups=group, interval_s=1))
    yield running, origin, group
    running.close()
    forget(database_url, dlq)
    forget_decisions(database_url, prefix)


def sign_in(browser, url: str, role: str) -> WebDriverWait:
    browser.get(url + "/")
    wait = WebDriverWait(browser, 45, poll_frequency=0.3)
    wait.until(lambda b: b.find_element(By.ID, "token").is_displayed())
    browser.find_element(By.ID, "token").send_keys(TOKENS[role])
    browser.find_element(By.ID, "login-button").click()
    wait.until(lambda b: b.find_element(By.ID, "console").is_displayed())
    return wait


def points(browser, chart: str) -> int:
    return int(browser.find_element(By.ID, chart).get_attribute("data-points") or 0)


def test_the_dashboard_loads_draws_charts_and_replays_a_dead_letter_by_clicking(console, browser, bootstrap_servers):
    running, origin, group = console
    event = poison(bootstrap_servers, _dlq(running), origin, "case-browser-secret")
    wait = sign_in(browser, running.url, "operator")

    wait.until(lambda b: points(b, "lag-chart") >= 6)  # 3 partitions, 2+ samples each
    wait.until(lambda b: points(b, "throughput-chart") >= 1)
    assert browser.find_element(By.ID, "lag-group").text == group
    assert len(browser.find_elements(By.CSS_SELECTOR, "#lag-chart path.series")) == 3
    assert " 45 " in browser.find_element(By.CSS_SELECTOR, "#groups tbody").text  # lag: 3 partitions x (20 - 5)
    wait.until(lambda b: b.find_element(By.ID, "dlq-open").text == "1")
    wait.until(lambda b: points(b, "dlq-chart") >= 1)
    wait.until(lambda b: points(b, "latency-chart") >= 3)  # p50, p90 and p99 of at least one sample
    drawn = {p.get_attribute("data-name") for p in browser.find_elements(By.CSS_SELECTOR, "#latency-chart path.series")}
    assert drawn == {"p50", "p90", "p99"}
    shown = browser.find_element(By.ID, "latency-now").text
    assert int(shown.split(" decisions")[0].split(": ")[-1]) >= DECISIONS and "p99" in shown
    assert "brokers up" in browser.find_element(By.ID, "cluster").text
    assert browser.find_elements(By.CSS_SELECTOR, "#brokers tbody .badge.OK")

    rows = wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#deadletters tbody tr"))
    assert len(rows) == 1 and "is not one of the services" in rows[0].text
    rows[0].click()  # view: the reasons and the masked original bytes
    wait.until(lambda b: b.find_element(By.ID, "dl-view").is_displayed())
    value = browser.find_element(By.ID, "dl-value").text
    assert '"event_name": "case.opened"' in value and "case-browser-secret" not in value and "psn-" not in value
    assert not browser.find_element(By.ID, "dl-unmask").is_displayed()  # an operator cannot unmask

    browser.find_element(By.ID, "dl-replay").click()
    wait.until(lambda b: b.find_element(By.ID, "action-dialog").is_displayed())
    browser.find_element(By.ID, "action-why").send_keys("service list fixed")
    browser.find_element(By.ID, "action-confirm").click()
    wait.until(lambda b: "1 done" in b.find_element(By.ID, "action-result").text)

    [copy] = read_topic(bootstrap_servers, origin)
    assert json.loads(copy.value) == event and copy.key == b"case-browser-secret" and REPLAY_OF in dict(copy.headers)
    wait.until(lambda b: "replay by kari" in b.find_element(By.ID, "dl-audit").text)
    wait.until(lambda b: b.find_element(By.ID, "dlq-open").text == "0")
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


def _dlq(running) -> str:
    return running.get("/api/deadletters").json()["topic"]


def test_a_viewer_sees_health_but_not_the_queue(console, browser):
    running, _, _ = console
    wait = sign_in(browser, running.url, "viewer")
    wait.until(lambda b: points(b, "lag-chart") >= 3)
    assert browser.find_element(By.ID, "dlq-forbidden").is_displayed()
    assert not browser.find_element(By.ID, "dlq-browser").is_displayed()


def test_many_dead_letters_are_replayed_at_once_and_a_second_replay_is_refused(console, browser, bootstrap_servers):
    running, origin, _ = console
    for n in range(3):
        poison(bootstrap_servers, _dlq(running), origin, f"case-bulk-{n}", offset=n)
    wait = sign_in(browser, running.url, "operator")
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#deadletters tbody tr")) == 3)
    browser.find_element(By.ID, "select-all").click()
    browser.find_element(By.ID, "replay-selected").click()
    wait.until(lambda b: b.find_element(By.ID, "action-dialog").is_displayed())
    browser.find_element(By.ID, "action-confirm").click()
    wait.until(lambda b: "3 done, 0 refused" in b.find_element(By.ID, "action-result").text)
    assert sorted(c.key for c in read_topic(bootstrap_servers, origin)) == [b"case-bulk-0", b"case-bulk-1",
                                                                          b"case-bulk-2"]

    form = browser.find_element(By.CSS_SELECTOR, "#dlq-filter select[name=status]")
    form.find_element(By.CSS_SELECTOR, "option[value=replayed]").click()
    browser.find_element(By.CSS_SELECTOR, "#dlq-filter button").click()
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#deadletters tbody tr")) == 3)
    wait.until(_first_box_ticked)  # the table is redrawn as the page polls: tick until it holds
    browser.find_element(By.ID, "replay-selected").click()
    wait.until(lambda b: b.find_element(By.ID, "action-dialog").is_displayed())
    browser.find_element(By.ID, "action-confirm").click()
    wait.until(lambda b: "0 done, 1 refused" in b.find_element(By.ID, "action-result").text)
    assert "already replayed" in browser.find_element(By.ID, "action-result").text
    assert len(read_topic(bootstrap_servers, origin, idle_ms=1500)) == 3


def _first_box_ticked(browser) -> bool:
    """Tick the first dead letter's box; False (try again) when the poll redrew the table under the click."""
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        box = browser.find_elements(By.CSS_SELECTOR, "#deadletters tbody input[type=checkbox]")[0]
        if not box.is_selected():
            box.click()
        return browser.find_elements(By.CSS_SELECTOR, "#deadletters tbody input[type=checkbox]")[0].is_selected()
    except StaleElementReferenceException:
        return False
