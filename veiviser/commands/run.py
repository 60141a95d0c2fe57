"""`veiviser run`: the whole pipeline beside the running stack (what `make run` starts)."""

from __future__ import annotations

import os
import signal
import time

import click

from infra.errors import InfraError
from veiviser.settings import Settings

ERRORS = (InfraError,)


@click.command(name="run", help="Every worker and service of the pipeline, and simulated office systems "
               "feeding it, until Ctrl-C (needs the stack: `veiviser up`). Tokens the environment does not "
               "set are made for the run and kept in .run/dev-tokens.env.")
@click.option("--events", type=click.IntRange(1), default=5000, show_default=True, help="simulated events")
@click.option("--rate", type=click.FloatRange(0.001), default=100, show_default=True, help="simulated events/s")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--no-simulator", is_flag=True, help="run the workers and services only")
@click.option("--seconds", type=click.FloatRange(1), default=None, help="stop after this long (default: Ctrl-C)")
@click.pass_obj
def run(settings: Settings, events: int, rate: float, seed: int, no_simulator: bool, seconds: float | None) -> None:
    from rich.console import Console

    from infra.pipeline import Supervisor, dev_tokens, parts
    from infra.stack import endpoints

    console = Console()
    endpoints(settings)  # fails with the fix when the stack is not up
    made = dev_tokens(os.environ, settings.run_path)
    supervisor = Supervisor(settings.run_path / "logs", {**os.environ, **made})
    plan = parts(events, rate, seed, simulate=not no_simulator)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        _start(supervisor, plan)
        _tell(console, plan, made, supervisor)
        end = time.monotonic() + seconds if seconds else None
        supervisor.watch(lambda: end is not None and time.monotonic() >= end)
    except KeyboardInterrupt:
        console.print("stopping ...")
    finally:
        codes = supervisor.stop()
        console.print("stopped: " + ", ".join(f"{name} (exit {code})" for name, code in codes.items()))


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def _start(supervisor, plan) -> None:
    for part in [p for p in plan if not p.delay_s]:
        supervisor.start(part)
    for part in [p for p in plan if p.delay_s]:
        end = time.monotonic() + part.delay_s
        supervisor.watch(lambda end=end: time.monotonic() >= end)
        supervisor.start(part)


def _tell(console, plan, made, supervisor) -> None:
    from rich.table import Table

    from infra.pipeline import first_token

    table = Table("part", "where", "log", title="veiviser run")
    for part in plan:
        table.add_row(part.name, part.url or "-", str(supervisor.log_dir / f"{part.name}.log"))
    console.print(table)
    if "VEIVISER_FIELD_TOKENS" in made:
        token = first_token(made["VEIVISER_FIELD_TOKENS"])
        console.print(f"field page of fw-000: http://127.0.0.1:8083/#token={token}")
    if made:
        console.print("tokens made for this run (operators, intake, every field worker): "
                      f"{supervisor.log_dir.parent / 'dev-tokens.env'}")
    console.print("Ctrl-C stops everything.")


def register(cli: click.Group, bench: click.Group) -> None:
    cli.add_command(run)
