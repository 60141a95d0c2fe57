"""Platform commands: up, down, status, migrate, topics apply."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from infra import stack
from infra.errors import InfraError
from infra.migrations import apply_migrations
from infra.topics import SPEC, apply_topics
from veiviser.settings import Settings

ERRORS = (InfraError,)
console = Console()


def _say(message: str) -> None:
    console.print(f"[cyan]•[/] {message}", highlight=False)


@click.command(help="Start Kafka and PostgreSQL/PostGIS (what is not running yet), apply migrations and topics.")
@click.option("--cluster", is_flag=True, help="Three brokers (each broker+controller) instead of one.")
@click.pass_obj
def up(settings: Settings, cluster: bool) -> None:
    if cluster:
        settings = settings.model_copy(update={"kafka_mode": "cluster"})
    with console.status("bringing the stack up"):
        eps = stack.up(settings, _say)
    console.print(f"[bold green]up[/]: Kafka at [bold]{eps.bootstrap_servers}[/], PostgreSQL ready; "
                  f"`veiviser status` shows it, `veiviser down` stops it.")


@click.command(help="Stop what `veiviser up` started, and only that.")
@click.option("--purge", is_flag=True, help="Also delete the run directory (broker data, database).")
@click.pass_obj
def down(settings: Settings, purge: bool) -> None:
    stopped = stack.down(settings, purge=purge)
    console.print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}"
                  + (f"; removed {settings.run_path}" if purge else ""))


@click.command(help="Show what the stack runs; exit status 1 when a part of it is stopped.")
@click.pass_obj
def status(settings: Settings) -> None:
    table = Table("component", "state", "address", "detail", title="Veiviser stack")
    parts = stack.status(settings)
    for part in parts:
        colour = {"running": "green", "external": "cyan"}.get(part.state, "red")
        table.add_row(part.name, f"[{colour}]{part.state}[/]", part.address, part.detail)
    console.print(table)
    raise SystemExit(0 if all(p.state != "stopped" for p in parts) else 1)


@click.command(help="Apply the SQL migrations in infra/migrations that are not yet applied.")
@click.pass_obj
def migrate(settings: Settings) -> None:
    applied = apply_migrations(stack.endpoints(settings).database_url)
    console.print(f"{len(applied)} migration(s) applied: {', '.join(m.path.name for m in applied) or 'none needed'}")


@click.group(help="Kafka topics as data (infra/topics.yaml).")
def topics() -> None:
    pass


@topics.command("apply", help="Make the cluster's topics match the spec; refuses changes Kafka cannot make.")
@click.option("--spec", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=SPEC, show_default=True)
@click.option("--dry-run", is_flag=True, help="Only print what would change.")
@click.pass_obj
def topics_apply(settings: Settings, spec: Path, dry_run: bool) -> None:
    changes = apply_topics(stack.endpoints(settings).bootstrap_servers, spec, dry_run=dry_run)
    verb = "would apply" if dry_run else "applied"
    for change in changes:
        console.print(f"  {change.topic}: {change.action} {change.detail}", highlight=False)
    console.print(f"{verb} {len(changes)} change(s); the cluster {'would then match' if dry_run else 'matches'} {spec.name}")


def register(cli: click.Group, bench: click.Group) -> None:
    for command in (up, down, status, migrate, topics):
        cli.add_command(command)
