"""Stream workers: `veiviser worker router` runs a router worker (migrations applied before it consumes)."""

from __future__ import annotations

import click

from streams.errors import StreamError
from veiviser.commands._groups import loglevel_option, subgroup, worker_data_dir
from veiviser.settings import Settings


class CaseNotFound(StreamError):
    """The ledger has no such case."""


ERRORS = (StreamError,)


@click.command(name="router", help="Route case events to follow-ups and store every decision (faust worker). "
               "Settings: VEIVISER_STREAMS_* (group, topics, batch size, metrics port).")
@loglevel_option
@click.pass_obj
def router(settings: Settings, loglevel: str) -> None:
    from infra.stack import endpoints
    from streams.app import bootstrap, load_stream_settings, run_worker

    stream = load_stream_settings()
    found = endpoints(settings)
    data_dir = worker_data_dir(settings.run_path, "streams", stream.group)
    run_worker(bootstrap(found.bootstrap_servers, found.database_url, data_dir, stream), loglevel)


@click.command(name="pipeline", help="End-to-end events/s and latency p50/p99 (publish -> decision committed) "
               "through one router worker, next to raw Kafka consume of the same messages.")
@click.option("--events", "count", type=click.IntRange(100), default=10_000, show_default=True,
              help="events published at full speed")
@click.option("--rate", type=click.FloatRange(1), default=1000, show_default=True, help="fixed rate, events/s")
@click.option("--seconds", type=click.FloatRange(1), default=10, show_default=True, help="length of the fixed-rate run")
@click.option("--workers", type=click.IntRange(1, 3), default=1, show_default=True, help="router workers in the group")
@click.pass_obj
def bench_pipeline(settings: Settings, count: int, rate: float, seconds: float, workers: int) -> None:
    from rich.console import Console
    from rich.table import Table

    from infra.migrations import apply_migrations
    from infra.stack import endpoints
    from streams.bench import run_pipeline_bench, summary

    console = Console()
    found = endpoints(settings)
    apply_migrations(found.database_url)
    with console.status("benchmarking the pipeline") as status:
        figures = run_pipeline_bench(found.bootstrap_servers, found.database_url, settings.run_path / "streams",
                                     count, rate, seconds, say=lambda text: status.update(text), workers=workers)
    table = Table("measure", "figure", title=f"veiviser bench pipeline ({workers} router worker(s))")
    for row in summary(figures):
        table.add_row(*row)
    console.print(table)


@click.command(name="history", help="Why a case went where it did: every event and decision in order, and the "
               "current decision's explanation (from the router's ledger).")
@click.argument("case_id")
@click.pass_obj
def history(settings: Settings, case_id: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from infra.stack import endpoints
    from streams.history import case_history

    console = Console()
    found = case_history(endpoints(settings).database_url, case_id)
    if found is None:
        raise CaseNotFound(f"case {case_id!r} is not in the ledger; check the id (case ids are as in the events' "
                           "payload.case_id) and that a router worker has consumed its events")
    table = Table("seq", "occurred", "entry", "event", "what", title=f"case {case_id} ({found.status}, "
                  f"{found.events_seen} events)")
    for e in found.entries:
        table.add_row(str(e.seq), e.occurred_at[:19], e.entry, e.event_name, e.summary)
    console.print(table)
    for line in found.explain:
        console.print(line, markup=False)


def register(cli: click.Group, bench: click.Group) -> None:
    subgroup(cli, "worker", "Run a stream worker (several share the partitions of a group).").add_command(router)
    subgroup(cli, "case", "Look at a case.").add_command(history)
    bench.add_command(bench_pipeline)
