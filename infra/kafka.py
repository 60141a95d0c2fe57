"""Apache Kafka in KRaft mode, resolved from Maven Central and run on this machine.

The broker version is pinned in infra/kafka/pom.xml (the only place). `resolve_jars` copies the broker,
its tools and their runtime dependencies into a per-version cache folder once; later runs find the
folder complete and never call Maven. A single node is a combined broker+controller; cluster mode
runs three of them, each its own voter, so that a fault test can kill one.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra.errors import PrerequisiteError, ResolveError, StartupError
from infra.processes import Managed, exit_status, require_free_port, spawn

__all__ = [
    "KafkaNode",
    "kafka_version",
    "check_java",
    "resolve_jars",
    "plan_nodes",
    "start_nodes",
    "wait_ready",
    "bootstrap_of",
]

POM = Path(__file__).parent / "kafka" / "pom.xml"
LOG4J = """status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.state.name = state.change.logger
logger.state.level = WARN
"""


@dataclass(frozen=True)
class KafkaNode:
    node_id: int
    host: str
    broker_port: int
    controller_port: int
    dir: Path

    @property
    def config(self) -> Path:
        return self.dir / "server.properties"

    @property
    def log(self) -> Path:
        return self.dir / "server.log"

    @property
    def process(self) -> Managed:
        return Managed(self.dir / "pid.json")

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.broker_port}"


def kafka_version(pom: Path = POM) -> str:
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    return ET.parse(pom).getroot().find("m:properties/m:kafka.version", ns).text.strip()


def check_java() -> int:
    """Return Java's major version; raise PrerequisiteError when Java is missing or older than 17."""
    if shutil.which("java") is None:
        raise PrerequisiteError(
            "no `java` on PATH: Kafka 4 needs Java 17 or newer. Install it (Debian: "
            "`apt-get install openjdk-17-jre-headless`) or put its bin/ on PATH."
        )
    out = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(match.group(1)) if match else 0
    major = int(match.group(2)) if match and major == 1 else major
    if major < 17:
        raise PrerequisiteError(
            f"Java {major or 'of unknown version'} found (`java -version` said {out.strip()[:80]!r}); "
            "Kafka 4 needs Java 17 or newer. Install a newer JDK and put it first on PATH."
        )
    return major


def resolve_jars(cache_dir: Path, on_status: Callable[[str], None] = lambda _: None, pom: Path = POM) -> Path:
    """The folder of Kafka jars for the pinned version; resolved with Maven only when not cached."""
    version = kafka_version(pom)
    lib = cache_dir.expanduser() / f"{version}-{_pom_digest(pom)}" / "lib"
    if (lib / ".complete").exists():
        return lib
    if shutil.which("mvn") is None:
        raise PrerequisiteError(
            "no `mvn` on PATH: Maven resolves the Kafka broker from Maven Central on the first run. "
            "Install it (Debian: `apt-get install maven`)."
        )
    on_status(f"resolving Apache Kafka {version} from Maven Central (first run only)")
    staging = lib.with_name("lib.partial")
    shutil.rmtree(staging, ignore_errors=True)
    cmd = ["mvn", "-B", "-q", "-f", str(pom), "dependency:copy-dependencies", f"-Dkafka.lib.dir={staging}"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise ResolveError(
            f"Maven could not resolve Kafka {version} (exit {done.returncode}):\n{tail}\n"
            f"Check that kafka.version in {pom} names a released Apache Kafka version and that Maven "
            "Central is reachable (proxy settings in ~/.m2/settings.xml), then retry."
        )
    (staging / ".complete").write_text(version)
    shutil.rmtree(lib, ignore_errors=True)
    staging.rename(lib)
    return lib


def _pom_digest(pom: Path) -> str:
    """A change to the pom (another dependency) gets a fresh cache folder."""
    return hashlib.sha256(pom.read_bytes()).hexdigest()[:10]


def plan_nodes(run_dir: Path, host: str, first_port: int, count: int) -> list[KafkaNode]:
    """Node i (1-based) listens on first_port+2(i-1) and its controller on the port after."""
    return [
        KafkaNode(i, host, first_port + 2 * (i - 1), first_port + 2 * (i - 1) + 1, run_dir / f"kafka-{i}")
        for i in range(1, count + 1)
    ]


def bootstrap_of(nodes: list[KafkaNode]) -> str:
    return ",".join(node.bootstrap for node in nodes)


def start_nodes(nodes: list[KafkaNode], lib: Path, heap: str, cluster_id_file: Path) -> None:
    """Format (first time only) and start every node that is not already running."""
    cluster_id = _cluster_id(cluster_id_file)
    for node in nodes:
        if node.process.alive():
            continue
        require_free_port(node.host, node.broker_port, "VEIVISER_KAFKA_PORT")
        require_free_port(node.host, node.controller_port, "VEIVISER_KAFKA_PORT")
        _write_config(node, nodes)
        _format(node, lib, cluster_id)
        cmd = _java(lib, heap, node) + ["kafka.Kafka", str(node.config)]
        spawn(cmd, node.log, node.process, marker=str(node.config))


def wait_ready(nodes: list[KafkaNode], timeout_s: float) -> None:
    """Wait until every node is in the cluster's metadata; StartupError with the log tail otherwise."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        _raise_if_dead(nodes)
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap_of(nodes), request_timeout_ms=3000)
            try:
                if len(admin.describe_cluster()["brokers"]) == len(nodes):
                    return
            finally:
                admin.close()
        except (KafkaError, OSError, ValueError):
            pass
        time.sleep(0.5)
    raise StartupError(
        f"Kafka at {bootstrap_of(nodes)} did not answer a metadata request within {timeout_s:.0f}s.\n"
        f"{_log_tail(nodes[0])}\nRaise VEIVISER_STARTUP_TIMEOUT_S on a slow machine, or read the log above."
    )


def _raise_if_dead(nodes: list[KafkaNode]) -> None:
    for node in nodes:
        if not node.process.alive():
            raise StartupError(
                f"Kafka node {node.node_id} stopped during start-up ({exit_status(node.process)}).\n{_log_tail(node)}"
            )


def _log_tail(node: KafkaNode, lines: int = 15) -> str:
    """The log's first errors (why the node stopped: a shutdown logs many lines after them) and its last lines."""
    try:
        text = node.log.read_text(errors="replace").strip().splitlines()
    except OSError:
        text = ["(no log written)"]
    errors = [line for line in text if " ERROR " in line or " FATAL " in line][:5]
    first = f"first errors in {node.log}:\n  " + "\n  ".join(errors) + "\n" if errors else ""
    return first + f"last lines of {node.log}:\n  " + "\n  ".join(text[-lines:])


def _java(lib: Path, heap: str, node: KafkaNode) -> list[str]:
    return [
        "java", f"-Xmx{heap}", f"-Xms{heap}", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true", f"-Dlog4j2.configurationFile={node.dir / 'log4j2.properties'}",
        "-cp", f"{lib}/*",
    ]


def _cluster_id(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))
    return path.read_text().strip()


def _write_config(node: KafkaNode, nodes: list[KafkaNode]) -> None:
    node.dir.mkdir(parents=True, exist_ok=True)
    replicas = min(3, len(nodes))
    voters = ",".join(f"{n.node_id}@{n.host}:{n.controller_port}" for n in nodes)
    props = {
        "process.roles": "broker,controller",
        "node.id": node.node_id,
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://{node.host}:{node.broker_port},CONTROLLER://{node.host}:{node.controller_port}",
        "advertised.listeners": f"PLAINTEXT://{node.bootstrap}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": node.dir / "data",
        "num.partitions": 3,
        "default.replication.factor": replicas,
        "min.insync.replicas": max(1, replicas - 1),
        "offsets.topic.replication.factor": replicas,
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": max(1, replicas - 1),
        "group.initial.rebalance.delay.ms": 0,
        "auto.create.topics.enable": "false",
    }
    node.config.write_text("".join(f"{key}={value}\n" for key, value in props.items()))
    (node.dir / "log4j2.properties").write_text(LOG4J)


def _format(node: KafkaNode, lib: Path, cluster_id: str) -> None:
    if (node.dir / "data" / "meta.properties").exists():
        return
    cmd = _java(lib, "256m", node) + ["kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}", "-c", str(node.config)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise StartupError(
            f"formatting KRaft storage of node {node.node_id} in {node.dir / 'data'} failed:\n"
            f"{(done.stdout + done.stderr).strip()[-1500:]}\n"
            "If the folder holds data of another cluster, run `veiviser down --purge` and try again."
        )
