"""streams.health: is the pipeline flowing, where does it pile up, what failed (issue 7, health half).

    veiviser health [--json]        # a short window of samples as a coloured table; exit 2 when ERR
    veiviser worker health          # samples forever and serves the health gauges on --metrics-port

    from streams.health import Sampler, check, load_health_settings
    sampler = Sampler(bootstrap_servers, database_url, load_health_settings())
    sampler.start(on_report=callback)   # a report every interval_s; sampler.latest() -> HealthReport | None
    report.to_json() / report.to_dict() / report.status / report.exit_code

Modules: burrow (pure lag evaluation with Burrow's rules), window (pure: samples -> report), report
(dataclasses), collect (Kafka reading, Sampler, check), latency (the SQL), metrics (Prometheus gauges),
render (the terminal tables), bench (`veiviser bench health`), settings (VEIVISER_HEALTH_*), errors. Names are imported lazily so `import streams.health.burrow` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "Status", "OffsetSample", "Verdict", "evaluate_partition", "group_status",
    "Window", "Snapshot", "GroupView",
    "HealthReport", "GroupHealth", "PartitionHealth", "LagPoint", "TopicThroughput", "RatePoint",
    "ClusterHealth", "BrokerHealth", "ControllerHealth", "ReplicaProblem", "DeadLetterSummary", "DeadLetter",
    "LatencySummary",
    "Sampler", "KafkaReader", "check", "pipeline_latency",
    "HealthSettings", "load_health_settings", "HealthMetrics",
    "HealthError", "HealthSettingsProblem", "ClusterUnreachable",
]

_HOME = {
    "Status": "burrow", "OffsetSample": "burrow", "Verdict": "burrow", "evaluate_partition": "burrow",
    "group_status": "burrow", "Window": "window", "Snapshot": "window", "GroupView": "window",
    "HealthReport": "report", "GroupHealth": "report", "PartitionHealth": "report", "LagPoint": "report",
    "TopicThroughput": "report", "RatePoint": "report", "ClusterHealth": "report", "BrokerHealth": "report",
    "ControllerHealth": "report",
    "ReplicaProblem": "report", "DeadLetterSummary": "report", "DeadLetter": "report", "LatencySummary": "report",
    "Sampler": "collect", "KafkaReader": "collect", "check": "collect", "pipeline_latency": "latency",
    "HealthSettings": "settings", "load_health_settings": "settings", "HealthMetrics": "metrics",
    "HealthError": "errors", "HealthSettingsProblem": "errors", "ClusterUnreachable": "errors",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'streams.health' has no attribute {name!r}; public names: {', '.join(__all__)}")
    return getattr(importlib.import_module(f"streams.health.{_HOME[name]}"), name)
