"""Field visit planning: `veiviser worker planner` (the planner stream worker) and `veiviser bench plan`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from geo.errors import GeoError
from streams.errors import StreamError
from veiviser.commands._groups import loglevel_option, subgroup, worker_data_dir
from veiviser.settings import Settings

ERRORS = (StreamError, GeoError)
TEAM_CENTRE = ("Bodø", 14.405, 67.28)  # the bench's team area: Nordland places within TEAM_RADIUS_KM of Bodø
TEAM_RADIUS_KM = 60.0


@click.command(name="planner", help="Plan mobile visits into field workers' day routes: consumes mobile-visit "
               "follow-ups, shifts and visit events, stores the plans and publishes route events (faust worker). "
               "Settings: VEIVISER_PLANNER_* (group, topics, horizon, escalation wait, metrics port).")
@loglevel_option
@click.pass_obj
def planner(settings: Settings, loglevel: str) -> None:
    from infra.stack import endpoints
    from streams.planner_app import bootstrap_planner, load_planner_settings, run_planner

    planning = load_planner_settings()
    found = endpoints(settings)
    data_dir = worker_data_dir(settings.run_path, "planner", planning.group)
    run_planner(bootstrap_planner(found.bootstrap_servers, found.database_url, data_dir, planning), loglevel)


@click.command(name="plan", help="Solve time and total travel of field days (20, 60, 150 visits over 3-10 workers "
               "in Nordland) for the planner, a direct VROOM call on the identical matrix and a nearest-neighbour "
               "baseline; --solomon FILE solves a Solomon VRPTW instance instead.")
@click.option("--rounds", type=click.IntRange(1, 20), default=3, show_default=True,
              help="alternating rounds; solve times are medians")
@click.option("--solomon", "solomon_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="a Solomon-format instance (e.g. tests/data/solomon/VV12.txt)")
def bench_plan(rounds: int, solomon_file: Path | None) -> None:
    from rich.console import Console

    console = Console()
    console.print(f"machine load (1/5/15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())} on "
                  f"{os.cpu_count()} cores: timings are noisy when others work")
    if solomon_file is not None:
        _solomon(console, solomon_file)
        return
    with console.status("planning") as status:
        figures = _day_figures(rounds, lambda text: status.update(text))
    console.print(_day_table(figures))


def _day_figures(rounds: int, say):
    from events.simulator import places
    from geo.planbench import Place, run_plan_bench
    from geo.travel import great_circle_km

    name, lon, lat = TEAM_CENTRE
    area = [Place(p.name, p.lon, p.lat, p.weight) for p in places()
            if p.municipality_number.startswith("18") and great_circle_km(lon, lat, p.lon, p.lat) <= TEAM_RADIUS_KM]
    say(f"{len(area)} places within {TEAM_RADIUS_KM:.0f} km of {name}")
    return run_plan_bench(area, rounds=rounds, say=say)


def _day_table(figures):
    from rich.table import Table

    table = Table("visits / workers / days", "planned p / d / nn", "travel min planner", "direct", "nn",
                  "planner / direct travel", "solve s planner", "direct", "nn", "planner / direct time",
                  "continuity", "matrix s",
                  title=f"veiviser bench plan: field days, Nordland places within {TEAM_RADIUS_KM:.0f} km of Bodø "
                        "(30-min visits, 08-16 shifts, 20 % repeat visits)")
    for f in figures:
        t, s, n = f.travel_min, f.solve_s, f.planned
        table.add_row(f"{f.visits} / {f.workers} / {f.days}", f"{n['planner']} / {n['direct']} / {n['nn']}",
                      f"{t['planner']:.0f}", f"{t['direct']:.0f}", f"{t['nn']:.0f}",
                      f"{t['planner'] / t['direct']:.3f}" if t["direct"] else "-", f"{s['planner']:.3f}",
                      f"{s['direct']:.3f}", f"{s['nn']:.4f}", f"{s['planner'] / s['direct']:.2f}",
                      f.continuity, f"{f.matrix_s:.2f}")
    return table


def _solomon(console, path: Path) -> None:
    import time

    from rich.table import Table

    from geo.solomon import BEST_KNOWN, read_solomon, solve_solomon

    instance = read_solomon(path)
    started = time.perf_counter()
    result = solve_solomon(instance)
    elapsed = time.perf_counter() - started
    best = BEST_KNOWN.get(instance.name.upper())
    table = Table("instance", "customers", "vehicles", "distance", "unassigned", "solve s", "best known (veh / dist)",
                  "distance / best", title="veiviser bench plan --solomon (euclidean, VROOM)")
    table.add_row(instance.name, str(len(instance.customers)), str(result.vehicles), f"{result.distance:.2f}",
                  str(result.unassigned), f"{elapsed:.3f}", f"{best[0]} / {best[1]:.2f}" if best else "not known",
                  f"{result.distance / best[1]:.4f}" if best else "-")
    console.print(table)


class RouteNotFound(StreamError):
    """No stored route for that worker and date."""


OSLO = "Europe/Oslo"  # field workers' clocks: a route is shown in local time, whatever the machine's zone


def oslo_today(now=None):
    """Today's date in Norway (the default day of `veiviser field route`); `now` an aware datetime."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    return (now or datetime.now(UTC)).astimezone(ZoneInfo(OSLO)).date()


def oslo_clock(moment) -> str:
    """HH:MM of an aware datetime on a Norwegian clock."""
    from zoneinfo import ZoneInfo

    return f"{moment.astimezone(ZoneInfo(OSLO)):%H:%M}"


@click.command(name="route", help="A field worker's current route for a date, as the planner stored it: stops in "
               "order with estimated arrival, visit, case, location kind, purpose and status.")
@click.argument("worker_id")
@click.option("--day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="YYYY-MM-DD (default: today in Norway); times are shown in Europe/Oslo")
@click.pass_obj
def show_route(settings: Settings, worker_id: str, day) -> None:
    from rich.console import Console
    from rich.table import Table

    from infra.stack import endpoints
    from streams.plans import worker_route

    when = day.date() if day else oslo_today()
    found = worker_route(endpoints(settings).database_url, worker_id, when)
    if found is None:
        raise RouteNotFound(f"no route stored for worker {worker_id!r} on {when}; check the worker id and the date, "
                            "and that `veiviser worker planner` has consumed the worker's shift")
    table = Table("seq", "eta", "departure", "visit", "case", "kind", "purpose", "status", title=(
        f"{worker_id} on {when} (team {found.team_id}, plan version {found.version}; times Europe/Oslo)"))
    for s in found.stops:
        table.add_row(str(s.seq), oslo_clock(s.eta), oslo_clock(s.departure), s.visit_id,
                      s.case_id, s.location_kind, s.purpose, s.status + (" (fixed)" if s.fixed else ""))
    Console().print(table)


def register(cli: click.Group, bench: click.Group) -> None:
    subgroup(cli, "worker", "Run a stream worker (several share the partitions of a group).").add_command(planner)
    subgroup(cli, "field", "Field visits as planned.").add_command(show_route)
    bench.add_command(bench_plan)
