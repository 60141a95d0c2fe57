"""Shared fixtures: the real running stack (Kafka and PostgreSQL/PostGIS), never a mock.

`bootstrap_servers` and `database_url` come from the stack that `veiviser up` started (or from
VEIVISER_BOOTSTRAP_SERVERS / VEIVISER_DATABASE_URL). When it is not reachable the test FAILS with the
command that fixes it: an integration test that silently skipped would prove nothing.
"""

from __future__ import annotations

import uuid

import pytest

from infra.errors import InfraError
from infra.migrations import apply_migrations
from infra.stack import endpoints
from veiviser.settings import Settings, load_settings

FIX = "Start the stack with `.venv/bin/veiviser up` (or `make test`, which does it) and run the tests again."


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def stack_endpoints(settings: Settings):
    try:
        return endpoints(settings)
    except InfraError as exc:
        pytest.fail(f"the stack is not available: {exc}\n{FIX}", pytrace=False)


@pytest.fixture(scope="session")
def bootstrap_servers(stack_endpoints) -> str:
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(bootstrap_servers=stack_endpoints.bootstrap_servers, request_timeout_ms=10000)
        admin.describe_cluster()
        admin.close()
    except (KafkaError, OSError) as exc:
        pytest.fail(f"Kafka at {stack_endpoints.bootstrap_servers} does not answer: {exc!r}\n{FIX}", pytrace=False)
    return stack_endpoints.bootstrap_servers


@pytest.fixture(scope="session")
def database_url(stack_endpoints) -> str:
    import psycopg2

    try:
        psycopg2.connect(stack_endpoints.database_url, connect_timeout=5).close()
    except psycopg2.OperationalError as exc:
        pytest.fail(f"PostgreSQL does not answer: {str(exc).strip()}\n{FIX}", pytrace=False)
    apply_migrations(stack_endpoints.database_url)
    return stack_endpoints.database_url


@pytest.fixture
def new_topic(bootstrap_servers: str):
    """Factory: a fresh topic with a unique name, deleted after the test."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers)
    created: list[str] = []

    def make(partitions: int = 3, config: dict | None = None, prefix: str = "test") -> str:
        name = f"{prefix}.{uuid.uuid4().hex[:12]}"
        brokers = len(admin.describe_cluster()["brokers"])
        topic = NewTopic(name, partitions, min(3, brokers), topic_configs=config or {})
        admin.create_topics([topic], wait_for_metadata=True)
        created.append(name)
        return name

    yield make
    if created:
        admin.delete_topics(created)
    admin.close()


@pytest.fixture
def new_group():
    """Factory: a consumer group id no other test uses."""
    return lambda prefix="test": f"{prefix}-{uuid.uuid4().hex[:12]}"


CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
BROWSER_FIX = "Install Debian's browser with `make browser` (apt-get install chromium chromium-driver)."


@pytest.fixture()
def browser(tmp_path):
    """A real headless Chromium (Debian's package) driven by selenium through Debian's chromedriver.

    The flags keep Chromium off the network it cannot reach here (no background connections, no updates).
    Fails, with the fix, when the browser is not installed.
    """
    import shutil

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.fail(f"Chromium or chromedriver is missing. {BROWSER_FIX}", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=412,915", f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
