"""`veiviser bench health`: what one health sample costs, next to the raw minimum it needs (the committed
offsets of the watched groups and their partitions' end offsets, two admin requests), measured in the same run
with rounds alternating; and what evaluating the window into a report costs."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import OffsetSpec

from streams.health.collect import Sampler
from streams.health.settings import HealthSettings

__all__ = ["HealthBench", "run_health_bench", "summary"]


@dataclass(frozen=True)
class HealthBench:
    rounds: int
    groups: int
    partitions: int
    sample_s: list[float]
    raw_s: list[float]
    report_s: list[float]
    load: tuple[float, float, float]


def run_health_bench(bootstrap_servers: str, settings: HealthSettings, rounds: int,
                     say: Callable[[str], None] = lambda _: None) -> HealthBench:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="veiviser-health-bench")
    sample_s, raw_s, report_s = [], [], []
    with Sampler(bootstrap_servers, None, settings.model_copy(update={"window": max(2, rounds)})) as sampler:
        ids = sorted(g["group_id"] for g in admin.list_groups() if settings.watches(g["group_id"]))
        for n in range(rounds):
            say(f"round {n + 1}/{rounds}")
            for step in ("raw", "sample") if n % 2 else ("sample", "raw"):
                if step == "raw":
                    raw_s.append(_raw(admin, ids))
                else:
                    sample_s.append(_timed(sampler.sample))
            report_s.append(_timed(sampler.report))
        report = sampler.latest()
    admin.close()
    partitions = sum(len(g.partitions) for g in report.groups) if report else 0
    return HealthBench(rounds, len(ids), partitions, sample_s, raw_s, report_s, os.getloadavg())


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _raw(admin: KafkaAdminClient, ids: list[str]) -> float:
    started = time.perf_counter()
    offsets = admin.list_group_offsets(ids) if ids else {}
    wanted = {tp: OffsetSpec.LATEST for found in offsets.values() for tp in found}
    if wanted:
        admin.list_partition_offsets({TopicPartition(tp.topic, tp.partition): s for tp, s in wanted.items()})
    return time.perf_counter() - started


def summary(bench: HealthBench) -> list[tuple[str, str]]:
    def ms(values: list[float]) -> str:
        ordered = sorted(values)
        p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
        return f"median {statistics.median(values) * 1000:.1f} ms, p90 {p90 * 1000:.1f} ms"

    ratio = statistics.median(bench.sample_s) / statistics.median(bench.raw_s)
    return [
        ("watched groups / their partitions", f"{bench.groups} / {bench.partitions}"),
        ("one health sample (everything; the first reads message timestamps)", ms(bench.sample_s)),
        ("raw: committed + end offsets only", ms(bench.raw_s)),
        ("sample / raw (medians)", f"{ratio:.1f}x"),
        ("window -> report (Burrow rules; no ledger)", ms(bench.report_s)),
        ("rounds (alternating)", str(bench.rounds)),
        ("machine load (1, 5, 15 min)", ", ".join(f"{x:.2f}" for x in bench.load) + f" on {os.cpu_count()} cores"),
    ]
