"""Geo commands: `veiviser route` (one routing decision, explained), `veiviser geo load` (data into PostGIS)
and `veiviser bench geo`."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from geo.errors import GeoError
from veiviser.settings import Settings

ERRORS = (GeoError,)
console = Console()


@click.command(help="Decide where a follow-up happens for a person at LAT/LON, and explain why.")
@click.option("--lat", type=float, required=True, help="Latitude, WGS84 degrees (e.g. 67.28 for Bodø).")
@click.option("--lon", type=float, required=True, help="Longitude, WGS84 degrees (e.g. 14.405 for Bodø).")
@click.option("--at", "at", default=None, help="ISO date or time of the event (default: now), e.g. 2019-06-01.")
@click.option("--kind", type=click.Choice(["home", "work", "school"]), default="home", show_default=True)
@click.option("--protection", type=click.Choice(["none", "confidential", "strictly_confidential"]), default="none",
              show_default=True, help="Address protection grading.")
@click.option("--marker", "markers", multiple=True, type=click.Choice(["young", "immigrant", "complex_needs"]),
              help="Priority marker (repeatable); tightens the travel-time threshold.")
@click.option("--cannot-travel", is_flag=True, help="The person cannot come to an office.")
@click.option("--skjermet", is_flag=True, help="The person is a NAV employee.")
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
def route(lat: float, lon: float, at: str | None, kind: str, protection: str, markers: tuple[str, ...],
          cannot_travel: bool, skjermet: bool, as_json: bool) -> None:
    # geo's submodules are imported by name: the editable install may expose `geo` as a namespace package
    from geo.cases import Case, PersonLocation
    from geo.regions import editions
    from geo.routing import default_router, route

    case = Case("cli", [PersonLocation(kind, lon, lat)], protection=protection, markers=frozenset(markers),
                can_travel=not cannot_travel, skjermet=skjermet)
    with console.status("loading boundaries and offices (first use)"):
        default_router()
        editions()
    decision = route(case, at=at)
    if as_json:
        click.echo(json.dumps(decision.to_dict(), ensure_ascii=False, indent=2))
        return
    _print_decision(decision)


def _print_decision(decision) -> None:
    from geo.regions import region_names

    colour = {"office_appointment": "green", "mobile_visit": "cyan"}.get(decision.outcome.value, "yellow")
    console.print(f"[bold {colour}]{decision.explain()[0]}[/]", highlight=False)
    for loc in decision.locations:
        where = (f"{loc.municipality} in BA-region {loc.region} ({region_names().get(loc.region, '?')})"
                 if loc.placeable else f"not placeable, {loc.distance_m / 1000:.1f} km from the nearest municipality")
        console.print(f"  {loc.kind}: {where}{f' (snapped {loc.distance_m:.0f} m)' if loc.snapped else ''}")
    if decision.owner_unit:
        console.print(f"  owner: unit {decision.owner_unit} (rule {decision.owner_rule})")
    if decision.travel_minutes is not None:
        console.print(f"  travel: {decision.travel_minutes:.0f} min (threshold {decision.threshold_minutes:.0f} min)"
                      + (f", appointment day {decision.appointment_day}" if decision.appointment_day else ""))
    for reason in decision.reasons:
        console.print(f"  why: {reason}", highlight=False)
    if decision.candidates:
        console.print(_candidates(decision))
    console.print(f"  data: {decision.boundary_edition}, {decision.policy_version}, registry {decision.registry_version}, "
                  f"{decision.ownership_version}; travel {decision.travel_model}", highlight=False)


def _candidates(decision) -> Table:
    table = Table("service point", "unit", "tier", "minutes", "from", "verdict", title="candidates considered")
    for c in decision.candidates:
        verdict = "[green]chosen[/]" if c.rejected is None else f"rejected: {c.rejected.value}"
        table.add_row(c.point_id, c.unit, c.tier.value, f"{c.minutes:.0f}", str(c.from_kind), verdict)
    return table


@click.group("geo", help="Geo data: boundaries, BA-regions and offices.")
def geo_group() -> None:
    pass


@geo_group.command("load", help="Load municipalities, regions and offices into PostGIS (replacing earlier rows).")
@click.pass_obj
def geo_load(settings: Settings) -> None:
    from geo.store import load_all
    from infra.stack import endpoints

    with console.status("loading geo data into PostGIS"):
        counts = load_all(endpoints(settings).database_url)
    console.print(", ".join(f"{n} {table}" for table, n in counts.items()) + " loaded")


@click.command("geo", help="locate() per call and vectorized, and routing decisions/s, next to raw shapely STRtree.")
@click.option("--points", "-n", default=200_000, show_default=True, help="Points for the vectorized figures.")
@click.option("--calls", default=20_000, show_default=True, help="Points/cases for the per-call figures.")
@click.option("--repeats", default=5, show_default=True, help="Rounds; each figure is its best round.")
def bench_geo(points: int, calls: int, repeats: int) -> None:
    from veiviser.bench.geo import run_all

    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console)
    with progress:
        task = progress.add_task("measuring", total=2 + 8 * repeats)

        def step(label, fn):
            progress.update(task, description=label)
            result = fn()
            progress.advance(task)
            return result

        figures = run_all(points, calls, repeats, step)
    Console(width=max(console.width, 125)).print(_table(figures, points, calls, repeats))


def _table(figures, points: int, calls: int, repeats: int) -> Table:
    table = Table(title=f"geo on one core: {points:,} points vectorized, {calls:,} per call, best of {repeats} rounds;"
                        " ratios from CPU time")
    for column in ("measure", "per CPU s", "per wall s", "baseline", "ratio", "note"):
        table.add_column(column, justify="right" if column.startswith("per") or column == "ratio" else "left")
    rate = {f.name: f.per_s for f in figures}
    for f in figures:
        ratio = f"{f.per_s / rate[f.baseline]:.2f}" if f.baseline else "1.00"
        table.add_row(f.name, f"{f.per_s:,.0f}", f"{f.per_wall_s:,.0f}", f.baseline or "-", ratio, f.note)
    return table


def register(cli: click.Group, bench: click.Group) -> None:
    cli.add_command(route)
    cli.add_command(geo_group)
    bench.add_command(bench_geo)
