"""`veiviser health` (a short window, a coloured table; exit status 0 when OK or WARN, 1 when anything is ERR,
2 when the cluster cannot be reached or a setting is bad) and `veiviser worker health` (samples forever and
serves the health gauges at /metrics for Prometheus)."""

from __future__ import annotations

import click

from streams.health.errors import HealthError, HealthSettingsProblem
from veiviser.commands._groups import subgroup
from veiviser.settings import Settings

ERRORS = (HealthError,)


@click.command(name="health", help="Stream health over a short window of samples: consumer groups with "
               "Burrow's status (OK/WARN/ERR), partition lag in messages and seconds, throughput, brokers, "
               "under-replicated/offline partitions, dead letters, end-to-end latency. Exit status 0 when OK "
               "or WARN, 1 when anything is ERR, 2 when the cluster cannot be reached. Settings: VEIVISER_HEALTH_*.")
@click.option("--samples", type=click.IntRange(2, 1000), default=5, show_default=True,
              help="samples in the window")
@click.option("--interval", type=click.FloatRange(0.1, 600), default=2.0, show_default=True,
              help="seconds between samples")
@click.option("--group", "groups", multiple=True, metavar="GLOB",
              help="consumer groups to evaluate (repeat; default VEIVISER_HEALTH_GROUPS, i.e. veiviser-*)")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON instead of tables")
@click.option("--all", "all_partitions", is_flag=True, help="list every partition, not only lagging ones")
@click.option("--no-latency", is_flag=True, help="skip the ledger's latency (no database needed)")
@click.pass_context
def health(ctx: click.Context, samples: int, interval: float, groups: tuple[str, ...], as_json: bool,
           all_partitions: bool, no_latency: bool) -> None:
    from rich.console import Console
    from rich.progress import Progress

    from infra.stack import endpoints
    from streams.health.collect import check
    from streams.health.render import render
    from streams.health.settings import load_health_settings

    settings: Settings = ctx.obj
    found = endpoints(settings)
    chosen = load_health_settings(groups=",".join(groups) if groups else None)
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(f"sampling {samples} x {interval:g} s", total=samples)
        report = check(found.bootstrap_servers, None if no_latency else found.database_url, chosen, samples,
                       interval, progress=lambda done, _: progress.update(task, completed=done))
    if as_json:
        click.echo(report.to_json(indent=2))
    else:
        Console().print(render(report, all_partitions))
    raise SystemExit(report.exit_code)


@click.command(name="health", help="Sample stream health forever (every VEIVISER_HEALTH_INTERVAL_S) and "
               "serve the health gauges (lag per group/partition, group status, brokers, dead letters, latency) "
               "at http://0.0.0.0:PORT/metrics for Prometheus.")
@click.option("--metrics-port", type=click.IntRange(1024, 65535), default=None,
              help="port of /metrics (default VEIVISER_HEALTH_METRICS_PORT)")
@click.pass_obj
def health_worker(settings: Settings, metrics_port: int | None) -> None:
    import logging
    import signal
    import threading

    from prometheus_client import start_http_server

    from infra.stack import endpoints
    from streams.health.collect import Sampler
    from streams.health.metrics import HealthMetrics
    from streams.health.settings import load_health_settings

    chosen = load_health_settings(metrics_port=metrics_port)
    if chosen.metrics_port is None:
        raise HealthSettingsProblem("no metrics port: give --metrics-port 9109 or set VEIVISER_HEALTH_METRICS_PORT")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    found = endpoints(settings)
    metrics = HealthMetrics()
    start_http_server(chosen.metrics_port)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    last: list[str] = []

    def on_report(report) -> None:
        metrics.update(report)
        if [report.status.value] != last:
            logging.getLogger("veiviser.health").info("health %s: %s", report.status,
                                                      "; ".join(report.problems[:5]) or "all OK")
            last[:] = [report.status.value]

    with Sampler(found.bootstrap_servers, found.database_url, chosen) as sampler:
        sampler.start(on_report=on_report)
        click.echo(f"health sampler: every {chosen.interval_s:g} s, window {chosen.window}, "
                   f"/metrics on port {chosen.metrics_port}", err=True)
        stop.wait()


@click.command(name="health", help="What one health sample costs (groups, offsets, brokers, dead letters, "
               "message timestamps), next to the raw minimum (committed and end offsets), rounds alternating.")
@click.option("--rounds", type=click.IntRange(2, 1000), default=20, show_default=True)
@click.option("--group", "groups", multiple=True, metavar="GLOB", help="consumer groups (default VEIVISER_HEALTH_GROUPS)")
@click.pass_obj
def bench_health(settings: Settings, rounds: int, groups: tuple[str, ...]) -> None:
    from rich.console import Console
    from rich.table import Table

    from infra.stack import endpoints
    from streams.health.bench import run_health_bench, summary
    from streams.health.settings import load_health_settings

    console = Console()
    chosen = load_health_settings(groups=",".join(groups) if groups else None)
    with console.status("benchmarking health samples") as status:
        figures = run_health_bench(endpoints(settings).bootstrap_servers, chosen, rounds,
                                   say=lambda text: status.update(text))
    table = Table("measure", "figure", title="veiviser bench health")
    for row in summary(figures):
        table.add_row(*row)
    console.print(table)


def register(cli: click.Group, bench: click.Group) -> None:
    bench.add_command(bench_health)
    cli.add_command(health)
    subgroup(cli, "worker", "Run a stream worker (several share the partitions of a group).").add_command(health_worker)
