"""`veiviser bench kafka`: raw Kafka throughput and latency, the baseline later figures compare with."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from infra import kafka as kafka_runtime
from infra.stack import endpoints
from veiviser.bench.kafka import SIZE, Figure, run_all
from veiviser.settings import Settings

console = Console()


@click.command("kafka", help="Raw produce/consume of 1 KB JSON: Kafka's Java perf tools, kafka-python, aiokafka.")
@click.option("--messages", "-n", default=100_000, show_default=True, help="Messages per producer and consumer.")
@click.option("--partitions", default=6, show_default=True)
@click.pass_obj
def bench_kafka(settings: Settings, messages: int, partitions: int) -> None:
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    bootstrap = endpoints(settings).bootstrap_servers
    lib = kafka_runtime.resolve_jars(settings.kafka_cache_dir)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    replicas = min(3, len(admin.describe_cluster()["brokers"]))
    topics = [f"bench.kafka.{uuid.uuid4().hex[:8]}" for _ in range(3)]
    admin.create_topics([NewTopic(t, partitions, replicas) for t in topics], wait_for_metadata=True)
    try:
        with tempfile.TemporaryDirectory() as tmp, _progress() as progress:
            task = progress.add_task("measuring", total=6)

            def step(label, fn):
                progress.update(task, description=f"{label}: {messages:,} messages")
                figure = fn()
                progress.advance(task)
                return figure

            figures = run_all(lib, bootstrap, topics, messages, Path(tmp), step)
    finally:
        admin.delete_topics(topics)
        admin.close()
    console.print(_table(figures, bootstrap, partitions, replicas))


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console)


def _table(figures: list[Figure], bootstrap: str, partitions: int, replicas: int) -> Table:
    table = Table(title=f"Raw Kafka, {SIZE} B JSON messages, acks=all, {partitions} partitions x{replicas}, {bootstrap}")
    for column in ("client", "direction", "messages/s", "MB/s", "p50 ms", "p99 ms", "ratio to Java"):
        table.add_column(column, justify="left" if column in ("client", "direction") else "right")
    ceiling = {f.direction: f.rate for f in figures if "Java" in f.name}
    for f in figures:
        lat = ("-", "-") if f.p50_ms is None else (f"{f.p50_ms:.1f}", f"{f.p99_ms:.1f}")
        table.add_row(f.name, f.direction, f"{f.rate:,.0f}", f"{f.mb_s:.1f}", *lat, f"{f.rate / ceiling[f.direction]:.2f}")
    return table


def register(cli: click.Group, bench: click.Group) -> None:
    bench.add_command(bench_kafka)
