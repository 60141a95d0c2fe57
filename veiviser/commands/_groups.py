"""Command groups shared by several command modules (serve, worker, case): the first to ask creates it."""

from __future__ import annotations

import click

__all__ = ["subgroup"]


def subgroup(parent: click.Group, name: str, help: str) -> click.Group:
    """The group `name` under parent, created with `help` when no module has made it yet."""
    group = parent.commands.get(name)
    if group is None:
        group = click.Group(name, help=help)
        parent.add_command(group)
    return group
