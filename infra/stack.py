"""The local stack: Kafka (one broker or a three-node cluster) and PostgreSQL/PostGIS.

`up` starts what is not running (running it twice is harmless), applies migrations and the topic spec,
and records the endpoints in <run dir>/stack.json. A failed `up` stops what that call started, so no
orphan is left. `down` stops only processes whose pid files it wrote. `endpoints` tells any other
process (workers, services, tests) where the stack is: configured servers win over the local stack.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from infra import kafka, postgres
from infra.errors import NotRunningError
from infra.migrations import apply_migrations
from infra.topics import apply_topics
from veiviser.settings import Settings

__all__ = ["Endpoints", "Component", "up", "down", "status", "endpoints", "kafka_nodes"]

MODES = {"single": 1, "cluster": 3}


@dataclass(frozen=True)
class Endpoints:
    bootstrap_servers: str
    database_url: str


@dataclass(frozen=True)
class Component:
    name: str
    state: str  # running | stopped | external
    address: str
    detail: str = ""


def kafka_nodes(settings: Settings, mode: str | None = None) -> list[kafka.KafkaNode]:
    mode = mode or settings.kafka_mode
    root = settings.run_path / "kafka" / mode
    return kafka.plan_nodes(root, settings.kafka_host, settings.kafka_port, MODES[mode])


def local_postgres(settings: Settings) -> postgres.LocalPostgres:
    return postgres.LocalPostgres(postgres.data_root(settings.run_path), settings.pg_port)


def up(settings: Settings, say: Callable[[str], None] = print) -> Endpoints:
    started: list[Callable[[], object]] = []
    try:
        bootstrap = _kafka_up(settings, say, started)
        database_url = _postgres_up(settings, say, started)
        applied = apply_migrations(database_url)
        say(f"migrations: {len(applied)} applied" + (f" ({', '.join(m.path.name for m in applied)})" if applied else ""))
        changes = apply_topics(bootstrap)
        say(f"topics: {len(changes)} change(s) applied from infra/topics.yaml")
    except BaseException:
        for stop in reversed(started):
            stop()
        raise
    _write_state(settings, Endpoints(bootstrap, database_url))
    return Endpoints(bootstrap, database_url)


def _kafka_up(settings: Settings, say: Callable[[str], None], started: list) -> str:
    if settings.bootstrap_servers:
        say(f"kafka: using the configured cluster {settings.bootstrap_servers}")
        return settings.bootstrap_servers
    _refuse_other_mode(settings)
    nodes = kafka_nodes(settings)
    if all(node.process.alive() for node in nodes):
        say(f"kafka: already running at {kafka.bootstrap_of(nodes)}")
        return kafka.bootstrap_of(nodes)
    kafka.check_java()
    lib = kafka.resolve_jars(settings.kafka_cache_dir, say)
    started.append(lambda: [node.process.stop() for node in nodes])
    kafka.start_nodes(nodes, lib, settings.kafka_heap, nodes[0].dir.parent / "cluster.id")
    kafka.wait_ready(nodes, settings.startup_timeout_s)
    say(f"kafka {kafka.kafka_version()}: {settings.kafka_mode} mode, {len(nodes)} node(s) at {kafka.bootstrap_of(nodes)}")
    return kafka.bootstrap_of(nodes)


def _refuse_other_mode(settings: Settings) -> None:
    for mode in MODES:
        if mode != settings.kafka_mode and any(n.process.alive() for n in kafka_nodes(settings, mode)):
            raise NotRunningError(
                f"Kafka is running in {mode} mode; stop it with `veiviser down` before starting "
                f"{settings.kafka_mode} mode (VEIVISER_KAFKA_MODE={settings.kafka_mode})."
            )


def _postgres_up(settings: Settings, say: Callable[[str], None], started: list) -> str:
    if settings.database_url:
        url = settings.database_url.get_secret_value()
        postgres.check_reachable(url)
        postgres.ensure_postgis(url)
        say("postgres: using the server named by VEIVISER_DATABASE_URL")
        return url
    local = local_postgres(settings)
    if local.running():
        say(f"postgres: already running on 127.0.0.1:{local.port}")
        return local.url
    bin_dir = postgres.ensure_installed(say)
    started.append(local.stop)
    local.start(bin_dir, settings.startup_timeout_s)
    say(f"postgres: running on 127.0.0.1:{local.port}, data in {local.data}")
    return local.url


def down(settings: Settings, purge: bool = False) -> list[str]:
    """Stop what `up` started (and only that); with purge, delete the run directory's data too."""
    nodes = [(mode, node) for mode in MODES for node in kafka_nodes(settings, mode)]
    with ThreadPoolExecutor(max_workers=len(nodes)) as pool:  # together: a lone voter would wait for quorum
        results = list(pool.map(lambda pair: pair[1].process.stop(), nodes))
    stopped = [f"kafka node {node.node_id} ({mode})" for (mode, node), ok in zip(nodes, results, strict=True) if ok]
    local = local_postgres(settings)
    if local.stop():
        stopped.append("postgres")
    (settings.run_path / "stack.json").unlink(missing_ok=True)
    if purge:
        shutil.rmtree(settings.run_path, ignore_errors=True)
        if not local.root.is_relative_to(settings.run_path):  # the fallback folder outside the checkout
            shutil.rmtree(local.root.parent, ignore_errors=True)
    return stopped


def status(settings: Settings) -> list[Component]:
    out = []
    if settings.bootstrap_servers:
        out.append(Component("kafka", "external", settings.bootstrap_servers))
    for mode in MODES:
        for node in kafka_nodes(settings, mode):
            pid = node.process.pid()
            if pid or mode == settings.kafka_mode:
                state = "running" if pid else "stopped"
                out.append(Component(f"kafka node {node.node_id} ({mode})", state, node.bootstrap, f"pid {pid}" if pid else ""))
    if settings.database_url:
        out.append(Component("postgres", "external", "VEIVISER_DATABASE_URL"))
    else:
        local = local_postgres(settings)
        out.append(Component("postgres", "running" if local.running() else "stopped", f"127.0.0.1:{local.port}", str(local.data)))
    return out


def endpoints(settings: Settings) -> Endpoints:
    """Where the stack is: configured servers first, else what the running local stack recorded."""
    state = _read_state(settings)
    bootstrap = settings.bootstrap_servers or (state or {}).get("bootstrap_servers")
    database_url = settings.database_url.get_secret_value() if settings.database_url else None
    if database_url is None and state:
        local = local_postgres(settings)
        database_url = local.url if local.password_file.exists() else None
    if not bootstrap or not database_url:
        raise NotRunningError(
            f"the stack is not running (no {settings.run_path / 'stack.json'}): start it with `veiviser up`, "
            "or set VEIVISER_BOOTSTRAP_SERVERS and VEIVISER_DATABASE_URL to servers that run elsewhere."
        )
    return Endpoints(bootstrap, database_url)


def _write_state(settings: Settings, eps: Endpoints) -> None:
    path = settings.run_path / "stack.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    public = {"bootstrap_servers": eps.bootstrap_servers, "kafka_mode": settings.kafka_mode}
    path.write_text(json.dumps(public, indent=2))


def _read_state(settings: Settings) -> dict | None:
    try:
        return json.loads((settings.run_path / "stack.json").read_text())
    except (OSError, ValueError):
        return None

