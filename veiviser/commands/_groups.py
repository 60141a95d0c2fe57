"""What several command modules share: groups (serve, worker, case; the first to ask creates one), and the
stream workers' --loglevel option and data folder."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["subgroup", "loglevel_option", "worker_data_dir"]

loglevel_option = click.option("--loglevel", type=click.Choice(["debug", "info", "warning", "error"]),
                                default="warning", show_default=True)


def subgroup(parent: click.Group, name: str, help: str) -> click.Group:
    """The group `name` under parent, created with `help` when no module has made it yet."""
    group = parent.commands.get(name)
    if group is None:
        group = click.Group(name, help=help)
        parent.add_command(group)
    return group


def worker_data_dir(run_path: Path, kind: str, group: str) -> str:
    """The faust worker's data folder under the run folder (made when missing)."""
    path = run_path / kind / group
    path.mkdir(parents=True, exist_ok=True)
    return str(path)
