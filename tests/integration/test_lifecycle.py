"""`veiviser up` / `down` on their own run directories and ports, beside the shared test stack.

Each test starts what it needs under .run/tests/<id> on free ports, so the stack the other tests use is
not disturbed; afterwards no process whose command line names that directory may be left.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import uuid
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType

from infra import stack
from infra.errors import PortInUseError, ResolveError
from infra.kafka import POM, kafka_version, resolve_jars
from veiviser.settings import load_settings

pytestmark = pytest.mark.integration


def free_port_run(count: int) -> int:
    """A port p such that p .. p+count-1 are all free on 127.0.0.1, below the kernel's ephemeral range: a port
    from that range can become some outgoing connection's local port (Kafka nodes connecting to each other)
    between this probe and the server's bind, and the node then dies at start-up."""
    low, _high = (int(v) for v in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    for _ in range(200):
        first = random.randrange(20000, max(20001, low - count))
        if all(_free(first + i) for i in range(count)):
            return first
    raise RuntimeError("no run of free ports found")


def _free(port: int) -> bool:
    """Nothing listens there. SO_REUSEADDR as servers bind: connections the stopped server closed may linger
    in TIME_WAIT on the port, which does not stop a server from listening on it again."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def processes_naming(path: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                state = (entry / "stat").read_text().split(")")[-1].split()[0]
            except OSError:
                continue
            if str(path) in cmdline and state != "Z":
                found.append(int(entry.name))
    return found


@pytest.fixture
def own_settings(settings, request):
    """Settings for a private stack: own run directory, own ports; torn down whatever happens."""
    run_dir = settings.run_path / "tests" / uuid.uuid4().hex[:8]
    made = []

    def make(**overrides):
        made.append(load_settings(run_dir=run_dir, kafka_port=free_port_run(6), pg_port=free_port_run(1), **overrides))
        return made[-1]

    yield make
    for own in made:
        stack.down(own, purge=True)
    assert processes_naming(run_dir) == [], "processes were left behind"


def test_up_twice_is_harmless_and_down_leaves_no_process(own_settings):
    settings = own_settings()
    messages: list[str] = []
    first = stack.up(settings, messages.append)
    pids = sorted(processes_naming(settings.run_path))
    assert len(pids) == 2  # one broker, one postmaster

    again: list[str] = []
    assert stack.up(settings, again.append) == first
    assert sorted(processes_naming(settings.run_path)) == pids  # nothing new started
    assert any("already running" in m for m in again) and any("0 change(s)" in m for m in again)
    assert {c.state for c in stack.status(settings)} == {"running"}

    stopped = stack.down(settings)
    assert set(stopped) == {"kafka node 1 (single)", "postgres"}
    assert processes_naming(settings.run_path) == []
    assert _free(settings.kafka_port) and _free(settings.pg_port)
    assert {c.state for c in stack.status(settings)} == {"stopped"}


def test_cluster_mode_runs_three_brokers_and_survives_losing_one(own_settings, database_url):
    settings = own_settings(kafka_mode="cluster", database_url=database_url)
    eps = stack.up(settings, lambda _: None)
    admin = KafkaAdminClient(bootstrap_servers=eps.bootstrap_servers)
    assert len(admin.describe_cluster()["brokers"]) == 3
    topic = "veiviser.case-events.v1"
    assert {len(p["replica_nodes"]) for p in admin.describe_topics([topic])[0]["partitions"]} == {3}
    config = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])["topic"][topic]
    assert config["min.insync.replicas"]["value"] == "2"
    admin.close()

    victim = stack.kafka_nodes(settings)[2].process.pid()
    os.kill(victim, signal.SIGKILL)
    producer = KafkaProducer(bootstrap_servers=eps.bootstrap_servers, acks="all", retries=10)
    metadata = producer.send(topic, key=b"case-1", value=b"{}").get(timeout=60)  # 2 in-sync replicas suffice
    producer.close()
    assert metadata.offset >= 0


def test_port_taken_by_someone_else_is_explained_and_nothing_is_left(own_settings, database_url):
    settings = own_settings(database_url=database_url)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", settings.kafka_port))
        squatter.listen()
        with pytest.raises(PortInUseError, match=rf"127.0.0.1:{settings.kafka_port} is already taken.*VEIVISER_KAFKA_PORT"):
            stack.up(settings, lambda _: None)
    assert processes_naming(settings.run_path) == []


def test_failed_up_stops_what_it_started(own_settings):
    settings = own_settings()
    with socket.socket() as squatter:  # Kafka starts, then the database port turns out to be taken
        squatter.bind(("127.0.0.1", settings.pg_port))
        squatter.listen()
        with pytest.raises(PortInUseError, match="VEIVISER_PG_PORT"):
            stack.up(settings, lambda _: None)
    assert processes_naming(settings.run_path) == []


def test_resolved_jars_are_reused_without_maven(settings, bootstrap_servers, monkeypatch, tmp_path):
    # the shared stack is up, so the jars are cached; with no `mvn` on PATH they must still be found
    (tmp_path / "java").symlink_to(Path(os.popen("readlink -f $(which java)").read().strip()))
    monkeypatch.setenv("PATH", str(tmp_path))
    lib = resolve_jars(settings.kafka_cache_dir)
    assert any(p.name.startswith("kafka_2.13-4.") for p in lib.iterdir())


def test_an_unresolvable_kafka_version_is_explained(tmp_path):
    pom = tmp_path / "pom.xml"
    pom.write_text(POM.read_text().replace(f"<kafka.version>{kafka_version()}<", "<kafka.version>0.0.404<"))
    with pytest.raises(ResolveError, match=r"(?s)could not resolve Kafka 0\.0\.404.*names a released Apache Kafka version"):
        resolve_jars(tmp_path / "cache", pom=pom)
    assert not any((tmp_path / "cache").rglob(".complete"))  # nothing half-resolved is taken for cached
