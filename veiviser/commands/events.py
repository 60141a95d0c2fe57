"""Event commands: serve intake, publish a file, simulate office systems, bench publish."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from events.errors import EventsError
from veiviser.commands._groups import subgroup
from veiviser.settings import Settings

ERRORS = (EventsError,)
console = Console()


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console)


def _publisher(settings: Settings, **kw):
    from events.publisher import Publisher
    from infra.stack import endpoints

    return Publisher(endpoints(settings).bootstrap_servers, **kw)


@click.command(name="intake", help="Run the HTTP intake for office systems (needs VEIVISER_INTAKE_TOKENS).")
@click.option("--host", default=None, help="Listen address (default VEIVISER_INTAKE_HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default VEIVISER_INTAKE_PORT or 8081).")
@click.pass_obj
def serve_intake(settings: Settings, host: str | None, port: int | None) -> None:
    import uvicorn

    from services.intake import build, load_intake_settings

    intake_settings = load_intake_settings()
    app, close = build(settings, intake_settings)
    host, port = host or intake_settings.intake_host, port or intake_settings.intake_port
    console.print(f"intake on http://{host}:{port} (OpenAPI: /openapi.json, /docs)")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        close()


@click.command(help="Publish a JSON Lines file of events (one event a line); rejects go to a rejects file.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where rejected lines go (default FILE.rejects.jsonl).")
@click.option("--system", default=None, help="Only accept events whose producing_system is this.")
@click.pass_obj
def publish(settings: Settings, file: Path, rejects: Path | None, system: str | None) -> None:
    from events.filepublish import publish_file, read_lines

    rejects = rejects or file.with_suffix(".rejects.jsonl")
    total = sum(1 for _ in read_lines(file))
    with _publisher(settings, producing_system=system) as publisher, _progress() as progress:
        task = progress.add_task(f"publishing {file.name}", total=total)
        summary = publish_file(file, publisher, rejects, lambda n: progress.advance(task, n))
    _print_summary(summary)
    raise SystemExit(0 if summary.rejected + summary.failed == 0 else 1)


def _print_summary(summary) -> None:
    table = Table("outcome", "events", title="publish summary")
    table.add_row("[green]accepted[/]", str(summary.accepted))
    table.add_row("[red]rejected[/]", str(summary.rejected))
    table.add_row("[yellow]failed (broker)[/]", str(summary.failed))
    console.print(table)
    if summary.reasons:
        reasons = Table("reason", "count", title="why events were rejected")
        for reason, count in summary.reasons.most_common(15):
            reasons.add_row(reason, str(count))
        console.print(reasons)
        console.print(f"rejected lines (identity numbers masked) are in [bold]{summary.rejects_path}[/]")


@click.command(help="Simulate office systems in Nordland and Trøndelag: publish events, or write them to a file.")
@click.option("--events", "count", type=click.IntRange(1), default=1000, show_default=True)
@click.option("--rate", type=click.FloatRange(min=0.001), default=None, help="Events per second (default: full speed).")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same events.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write JSON Lines here instead of publishing.")
@click.pass_obj
def simulate(settings: Settings, count: int, rate: float | None, seed: int, out: Path | None) -> None:
    from events.simulator import Simulator, SimulatorConfig, paced

    events = paced(Simulator(SimulatorConfig(seed=seed)).events(count), rate)
    with _progress() as progress:
        task = progress.add_task("simulating" if out else "simulating and publishing", total=count)
        if out:
            with out.open("w", encoding="utf-8") as handle:
                for event in events:
                    handle.write(json.dumps(event, ensure_ascii=False) + "\n")
                    progress.advance(task)
            console.print(f"wrote {count} events to {out}")
            return
        outcome = _simulate_publish(settings, events, lambda n: progress.advance(task, n))
    console.print(f"published: {outcome['accepted']} accepted, {outcome['other']} not accepted")
    if outcome["other"]:
        for reason, n in sorted(outcome["reasons"].items(), key=lambda item: -item[1])[:10]:
            console.print(f"  {n} x {reason}")
        raise SystemExit(1)


def _simulate_publish(settings: Settings, events, advance) -> dict:
    from events.publisher import Accepted

    outcome: dict = {"accepted": 0, "other": 0, "reasons": {}}
    with _publisher(settings) as publisher:  # a paced stream goes out promptly (publish_stream's max_delay_s)
        for result in publisher.publish_stream(events):
            if isinstance(result, Accepted):
                outcome["accepted"] += 1
            else:
                outcome["other"] += 1
                reason = _reason(result)
                outcome["reasons"][reason] = outcome["reasons"].get(reason, 0) + 1
            advance(1)
    return outcome


def _reason(result) -> str:
    """One line on why an event was not accepted (its first problem, or the error)."""
    problems = getattr(result, "problems", None)
    if problems:
        return str(problems[0])
    return str(getattr(result, "error", None) or type(result).__name__)


@click.command(name="publish", help="Events/s through the library and the HTTP intake, against raw kafka-python.")
@click.option("--events", "count", type=click.IntRange(100), default=20_000, show_default=True)
@click.option("--batch", "batch_size", type=click.IntRange(1, 2000), default=500, show_default=True,
              help="Events per HTTP batch.")
@click.option("--rounds", type=click.IntRange(1, 50), default=5, show_default=True,
              help="Alternating raw/library rounds; figures are medians.")
@click.pass_obj
def bench_publish(settings: Settings, count: int, batch_size: int, rounds: int) -> None:
    from services.intake.bench import run_publish_bench

    run_publish_bench(settings, count, batch_size, console, rounds)


def register(cli: click.Group, bench: click.Group) -> None:
    subgroup(cli, "serve", "Run a Veiviser service.").add_command(serve_intake)
    cli.add_command(publish)
    cli.add_command(simulate)
    bench.add_command(bench_publish)
