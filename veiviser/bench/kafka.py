"""`veiviser bench kafka`: the raw Kafka ceiling, measured on the running broker in one run.

Kafka's own ProducerPerformance and ConsumerPerformance (from the resolved jars) set the ceiling; raw
kafka-python and aiokafka produce and consume the same 1 KB JSON message next to them. Producers use
acks=all; latency is send -> broker acknowledgement of each message. Every figure is reported with
its ratio to the Java tool of the same direction.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Figure", "payload", "run_all"]

SIZE = 1024


@dataclass(frozen=True)
class Figure:
    name: str
    direction: str  # produce | consume
    messages: int
    seconds: float
    p50_ms: float | None = None
    p99_ms: float | None = None

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    @property
    def mb_s(self) -> float:
        return self.rate * SIZE / 1_000_000


def payload() -> bytes:
    """One event-like JSON document of exactly 1024 bytes."""
    doc = {"event_id": str(uuid.UUID(int=1)), "event_name": "case.opened", "schema_version": 1, "pad": ""}
    doc["pad"] = "x" * (SIZE - len(json.dumps(doc, separators=(",", ":"))))
    raw = json.dumps(doc, separators=(",", ":")).encode()
    assert len(raw) == SIZE
    return raw


def _percentiles(latencies_s: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies_s, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


def java_produce(lib: Path, bootstrap: str, topic: str, n: int, payload_file: Path) -> Figure:
    cmd = [
        "java", "-Xmx512m", "-cp", f"{lib}/*", "org.apache.kafka.tools.ProducerPerformance",
        "--topic", topic, "--num-records", str(n), "--throughput", "-1", "--payload-file", str(payload_file),
        "--producer-props", f"bootstrap.servers={bootstrap}", "acks=all", "enable.idempotence=true",
    ]
    out = _run(cmd)
    last = [line for line in out.splitlines() if "records sent" in line][-1]
    rate = float(re.search(r"([\d.]+) records/sec", last).group(1))
    p50 = float(re.search(r"(\d+) ms 50th", last).group(1))
    p99 = float(re.search(r"(\d+) ms 99th", last).group(1))
    return Figure("Java ProducerPerformance", "produce", n, n / rate, p50, p99)


def java_consume(lib: Path, bootstrap: str, topic: str, n: int) -> Figure:
    cmd = [
        "java", "-Xmx512m", "-cp", f"{lib}/*", "org.apache.kafka.tools.ConsumerPerformance",
        "--bootstrap-server", bootstrap, "--topic", topic, "--messages", str(n), "--timeout", "60000",
    ]
    out = _run(cmd)
    lines = [line for line in out.splitlines() if line and line[0].isdigit()]
    fields = [part.strip() for part in lines[-1].split(",")]
    return Figure("Java ConsumerPerformance", "consume", int(fields[4]), int(fields[4]) / float(fields[5]))


def _run(cmd: list[str]) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[4]} failed (exit {done.returncode}): {done.stderr.strip()[-800:]}")
    return done.stdout


def kafka_python_produce(bootstrap: str, topic: str, n: int, value: bytes) -> Figure:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                             linger_ms=5, batch_size=256 * 1024, max_in_flight_requests_per_connection=5)
    latencies: list[float] = []
    started = time.perf_counter()
    for i in range(n):
        sent_at = time.perf_counter()
        future = producer.send(topic, value=value, key=str(i % 1000).encode())
        future.add_callback(lambda _md, t=sent_at: latencies.append(time.perf_counter() - t))
    producer.flush()
    seconds = time.perf_counter() - started
    producer.close()
    return Figure("kafka-python", "produce", n, seconds, *_percentiles(latencies))


def kafka_python_consume(bootstrap: str, topic: str, n: int) -> Figure:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"bench-{uuid.uuid4().hex[:8]}",
                             auto_offset_reset="earliest", enable_auto_commit=False, fetch_max_bytes=50 * 1024 * 1024)
    count, started = 0, time.perf_counter()
    while count < n:
        for records in consumer.poll(timeout_ms=1000, max_records=10_000).values():
            count += len(records)
    seconds = time.perf_counter() - started
    consumer.close()
    return Figure("kafka-python", "consume", count, seconds)


async def _aio_produce(bootstrap: str, topic: str, n: int, value: bytes) -> Figure:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                                linger_ms=5, max_batch_size=256 * 1024)
    await producer.start()
    latencies: list[float] = []
    started = time.perf_counter()
    futures = []
    for i in range(n):
        sent_at = time.perf_counter()
        future = await producer.send(topic, value=value, key=str(i % 1000).encode())
        future.add_done_callback(lambda _f, t=sent_at: latencies.append(time.perf_counter() - t))
        futures.append(future)
    await asyncio.gather(*futures)
    seconds = time.perf_counter() - started
    await producer.stop()
    return Figure("aiokafka", "produce", n, seconds, *_percentiles(latencies))


async def _aio_consume(bootstrap: str, topic: str, n: int) -> Figure:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"bench-{uuid.uuid4().hex[:8]}",
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                fetch_max_bytes=50 * 1024 * 1024, max_partition_fetch_bytes=4 * 1024 * 1024)
    await consumer.start()
    count, started = 0, time.perf_counter()
    while count < n:
        batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
        count += sum(len(records) for records in batches.values())
    seconds = time.perf_counter() - started
    await consumer.stop()
    return Figure("aiokafka", "consume", count, seconds)


def aiokafka_produce(bootstrap: str, topic: str, n: int, value: bytes) -> Figure:
    return asyncio.run(_aio_produce(bootstrap, topic, n, value))


def aiokafka_consume(bootstrap: str, topic: str, n: int) -> Figure:
    return asyncio.run(_aio_consume(bootstrap, topic, n))


def run_all(lib: Path, bootstrap: str, topics: list[str], n: int, workdir: Path, step) -> list[Figure]:
    """Produce with each client to its own topic; consume the Java tool's topic with each client."""
    value = payload()
    payload_file = workdir / "payload.json"
    payload_file.write_bytes(value + b"\n")
    java_topic, kp_topic, aio_topic = topics
    figures = [step("Java producer", lambda: java_produce(lib, bootstrap, java_topic, n, payload_file))]
    figures.append(step("kafka-python producer", lambda: kafka_python_produce(bootstrap, kp_topic, n, value)))
    figures.append(step("aiokafka producer", lambda: aiokafka_produce(bootstrap, aio_topic, n, value)))
    figures.append(step("Java consumer", lambda: java_consume(lib, bootstrap, java_topic, n)))
    figures.append(step("kafka-python consumer", lambda: kafka_python_consume(bootstrap, java_topic, n)))
    figures.append(step("aiokafka consumer", lambda: aiokafka_consume(bootstrap, java_topic, n)))
    return figures
