"""Stream workers: `veiviser worker router` runs a router worker (migrations applied before it consumes)."""

from __future__ import annotations

import click

from streams.errors import StreamError
from veiviser.settings import Settings

ERRORS = (StreamError,)


@click.command(name="router", help="Route case events to follow-ups and store every decision (faust worker). "
               "Settings: VEIVISER_STREAMS_* (group, topics, batch size, metrics port).")
@click.option("--loglevel", type=click.Choice(["debug", "info", "warning", "error"]), default="warning",
              show_default=True)
@click.pass_obj
def router(settings: Settings, loglevel: str) -> None:
    from infra.stack import endpoints
    from streams.app import bootstrap, load_stream_settings, run_worker

    stream = load_stream_settings()
    found = endpoints(settings)
    data_dir = settings.run_path / "streams" / stream.group
    data_dir.mkdir(parents=True, exist_ok=True)
    run_worker(bootstrap(found.bootstrap_servers, found.database_url, str(data_dir), stream), loglevel)


def register(cli: click.Group, bench: click.Group) -> None:
    worker = cli.commands.get("worker")
    if worker is None:
        worker = click.Group("worker", help="Run a stream worker (several share the partitions of a group).")
        cli.add_command(worker)
    worker.add_command(router)
