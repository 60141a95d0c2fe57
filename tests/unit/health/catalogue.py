"""Every Prometheus metric the project registers, for the naming tests and the alert-rule check.

Module-level metrics register in prometheus_client's default registry when their module is imported, so every
project module that mentions prometheus_client is imported; classes in modules named *metrics* that own a
registry (one per app) are built once with a fresh registry. The result maps each exposed sample family
name to (type, declared label names, where it came from).
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("streams", "services", "events", "geo", "infra", "veiviser")
RUNTIME = ("process_", "python_")  # the client library's own collectors


def _modules() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "prometheus_client" in path.read_text(encoding="utf-8"):
                found.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return found


def _own_registries(module) -> list[CollectorRegistry]:
    registries = []
    for _, cls in inspect.getmembers(module, inspect.isclass):
        if cls.__module__ != module.__name__ or not module.__name__.endswith("metrics"):
            continue
        params = inspect.signature(cls).parameters
        if any(p.default is p.empty for name, p in params.items() if name != "registry"):
            continue  # a base needing arguments (services.httpmetrics.HttpMetrics): its subclasses are built
        if "registry" in params:
            registry = CollectorRegistry()
            cls(registry=registry)
            registries.append(registry)
        else:
            made = cls()
            if isinstance(getattr(made, "registry", None), CollectorRegistry) and made.registry is not REGISTRY:
                registries.append(made.registry)
    return registries


def project_metrics() -> dict[str, tuple[str, frozenset[str], str]]:
    """family name -> (type, label names, module or registry it came from)."""
    registries: list[tuple[str, CollectorRegistry]] = [("default registry", REGISTRY)]
    for name in _modules():
        module = importlib.import_module(name)
        registries += [(name, r) for r in _own_registries(module)]
    found: dict[str, tuple[str, frozenset[str], str]] = {}
    for where, registry in registries:
        for collector in list(registry._collector_to_names):  # the declared metrics, with or without samples
            if hasattr(collector, "_labelnames"):
                name, kind, labels = collector._name, collector._type, frozenset(collector._labelnames)
                if not name.startswith(RUNTIME):
                    found[name] = (kind, labels, where)
                continue
            for family in collector.collect():  # a custom collector: what it exposes now
                if not family.name.startswith(RUNTIME):
                    labels = frozenset(k for s in family.samples for k in s.labels if k not in ("le", "quantile"))
                    found[family.name] = (family.type, labels, where)
    return found


def exposed_names(metrics: dict[str, tuple[str, frozenset[str], str]]) -> set[str]:
    """The sample names Prometheus sees (counter x -> x_total, histogram x -> x_bucket/_sum/_count, ...)."""
    suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"),
                "summary": ("_sum", "_count", "_created"), "gauge": ("",), "info": ("_info",),
                "stateset": ("",), "enum": ("",)}
    return {name + suffix for name, (kind, _, _) in metrics.items() for suffix in suffixes.get(kind, ("",))}
