"""Command modules of the `veiviser` CLI, found by discovery.

Each module here defines `register(cli, bench)`, which adds its commands to the top-level group and
(for benchmarks) to the `bench` group, and may define `ERRORS`: a tuple of exception types whose
message is shown to the user as a clear error (exit status 2) instead of a traceback.
Adding a concern's commands means adding a module; nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import click

__all__ = ["register_all", "known_errors"]


def _modules() -> list[ModuleType]:
    names = sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_"))
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


def register_all(cli: click.Group, bench: click.Group) -> None:
    for module in _modules():
        module.register(cli, bench)


def known_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = []
    for module in _modules():
        errors.extend(getattr(module, "ERRORS", ()))
    return tuple(errors)
