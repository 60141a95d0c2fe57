"""Operator commands: `veiviser serve operators` (the console) and `veiviser deadletters list|show|replay|discard`."""

from __future__ import annotations

import getpass
import re
from datetime import UTC, datetime, timedelta

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from events import topics
from services.operators.errors import OperatorsError
from veiviser.commands._groups import subgroup
from veiviser.settings import Settings

ERRORS = (OperatorsError,)
console = Console()
STATUS_COLOUR = {"open": "yellow", "replayed": "green", "discarded": "dim"}
_RELATIVE = re.compile(r"^(\d+)([smhd])$")


@click.command(name="operators", help="Run the operator console: live stream health and the dead-letter queue "
               "(needs VEIVISER_OPERATORS_TOKENS).")
@click.option("--host", default=None, help="Listen address (default VEIVISER_OPERATORS_HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default VEIVISER_OPERATORS_PORT or 8084).")
@click.pass_obj
def serve_operators(settings: Settings, host: str | None, port: int | None) -> None:
    import uvicorn

    from services.operators import build, load_operators_settings

    operators = load_operators_settings()
    app, close = build(settings, operators)
    host, port = host or operators.host, port or operators.port
    console.print(f"operator console on http://{host}:{port}/ (API: /docs, metrics: /metrics)")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        close()


def _when(text: str | None) -> datetime | None:
    """'30m', '2h', '7d' ago, or an ISO 8601 time (UTC when it has no zone)."""
    if not text:
        return None
    relative = _RELATIVE.match(text.strip())
    if relative:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[relative.group(2)]
        return datetime.now(UTC) - timedelta(**{unit: int(relative.group(1))})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is neither a time like 2026-11-23T14:00 nor an age like 30m, 2h, 7d") \
            from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _filters(fn):
    for option in reversed([
        click.option("--origin", help="Origin topic, or 'intake' for what the HTTP intake rejected."),
        click.option("--stage", help="Stage that rejected it: deserialize, validate, decide, store, intake, ..."),
        click.option("--reason", help="Text in the reason."),
        click.option("--text", help="Text anywhere in the reason, problems, error or event name."),
        click.option("--status", type=click.Choice(["open", "replayed", "discarded"]), default=None),
        click.option("--since", help="Dead-lettered at or after: an ISO time or an age (30m, 2h, 7d)."),
        click.option("--until", help="Dead-lettered before: an ISO time or an age."),
        click.option("--topic", default=topics.DEAD_LETTER, show_default=True, help="The dead-letter topic."),
    ]):
        fn = option(fn)
    return fn


def _queue(settings: Settings, topic: str):
    from services.operators import open_queue

    queue = open_queue(settings, topic)
    with console.status(f"reading new dead letters from {topic}"):
        queue.sync()
    return queue


def _filter(origin, stage, reason, text, status, since, until):
    from services.operators.store import Filter

    return Filter(origin, stage, reason, text, status, _when(since), _when(until))


@click.group(name="deadletters", help="The dead-letter queue: browse, see, replay and discard rejected messages "
             "(personal data masked; every action audited).")
def deadletters() -> None:
    pass


@deadletters.command(name="list", help="Dead letters, newest first, with their reasons.")
@_filters
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.pass_obj
def list_(settings: Settings, origin, stage, reason, text, status, since, until, topic, limit) -> None:
    queue = _queue(settings, topic)
    total, items = queue.search(_filter(origin, stage, reason, text, status, since, until), limit)
    table = Table("id", "dead at (UTC)", "origin", "stage", "status", "event", "reason",
                  title=f"{topic}: {len(items)} of {total} matching", title_justify="left")
    for item in items:
        origin_text = item["origin_topic"] or item["source"]
        colour = STATUS_COLOUR[item["status"]]
        status_text = item["status"] + (f" ×{item['replays']}" if item["replays"] else "") + \
            (f" (replay failed, gen {item['generation']})" if item["generation"] else "")
        table.add_row(f"{item['dl_partition']}:{item['dl_offset']}", item["dead_at"].strftime("%Y-%m-%d %H:%M:%S"),
                      escape(origin_text), item["stage"], f"[{colour}]{status_text}[/]", item["event_name"] or "",
                      escape(item["reason"][:160]))
    console.print(table)


@deadletters.command(help="One dead letter: its reasons, its value (masked unless --unmasked, which is audited) "
                     "and what was done to it.")
@click.argument("ref")
@click.option("--unmasked", is_flag=True, help="Show personal data (recorded in the audit with your user name).")
@click.option("--topic", default=topics.DEAD_LETTER, show_default=True, help="The dead-letter topic.")
@click.pass_obj
def show(settings: Settings, ref: str, unmasked: bool, topic: str) -> None:
    queue = _queue(settings, topic)
    found = queue.view(_ref(ref, topic), _cli_caller(unmasked), unmasked)
    console.print(f"[bold]dead letter {found['ref']}[/] on {topic} ({found['status']}, dead at "
                  f"{found['dead_at']:%Y-%m-%d %H:%M:%S} UTC)")
    for name in ("source", "origin_topic", "origin_partition", "origin_offset", "stage", "outcome", "event_name",
                 "event_id", "value_bytes", "replays", "generation", "key"):
        if found.get(name) not in (None, ""):
            console.print(f"  {name:<17} {escape(str(found[name]))}")
    console.print(f"  [bold]reason[/]            {escape(found['reason'])}")
    if found["error"]:
        console.print(f"  error             {escape(found['error'])}")
    for problem in found["problems"]:
        console.print(f"  - {escape(problem['path'])}: {escape(problem['message'])} [dim]fix: "
                      f"{escape(problem['fix'])}[/]")
    console.print(f"[bold]value[/] ({found['value_encoding']}{', masked' if found['masked'] else ''}):")
    console.print(escape(found["value"]), highlight=False)
    for entry in found["audit"]:
        console.print(f"  [dim]{entry['at']:%Y-%m-%d %H:%M:%S}[/] {entry['action']} by {entry['actor']}"
                      f"{' (forced)' if entry['forced'] else ''}: {escape(entry['why'])}")


def _ref(text: str, topic: str):
    from services.operators.deadletters import parse_ref

    try:
        return parse_ref(text, topic)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _cli_caller(privileged: bool = False):
    from services.operators.settings import Caller

    return Caller(f"cli:{getpass.getuser()}", "privileged" if privileged else "operator")


def _targets(queue, refs, all_matching: bool, where, yes: bool, verb: str):
    if refs and all_matching:
        raise click.UsageError("give dead-letter ids or --all-matching with filters, not both")
    if refs:
        return [_ref(r, queue.name) for r in refs]
    if not all_matching:
        raise click.UsageError(f"say which dead letters to {verb}: ids like 0:42, or --all-matching with filters")
    total, items = queue.search(where, limit=10_000)
    if total > len(items):
        raise click.UsageError(f"{total} dead letters match; narrow the filters to at most 10000")
    if items and not yes:
        click.confirm(f"{verb} {len(items)} dead letter(s)?", abort=True)
    return [queue.ref(i["dl_partition"], i["dl_offset"]) for i in items]


def _report(done) -> None:
    table = Table("id", "result", "detail")
    for d in done:
        table.add_row(d.ref, "[green]done[/]" if d.ok else "[red]refused[/]", escape(d.detail))
    console.print(table)
    if not all(d.ok for d in done):
        raise SystemExit(1)


@deadletters.command(help="Send dead letters back to their original topic (same key; marked as a replay). "
                     "A dead letter already replayed or discarded is refused unless --force.")
@click.argument("refs", nargs=-1)
@click.option("--all-matching", is_flag=True, help="Replay every OPEN dead letter matching the filters.")
@_filters
@click.option("--why", default="", help="Why (kept in the audit), e.g. the fix that was deployed.")
@click.option("--force", is_flag=True, help="Replay even when already replayed, discarded or looping.")
@click.option("--yes", is_flag=True, help="Do not ask before replaying --all-matching.")
@click.pass_obj
def replay(settings: Settings, refs, all_matching, origin, stage, reason, text, status, since, until, topic, why,
           force, yes) -> None:
    queue = _queue(settings, topic)
    where = _filter(origin, stage, reason, text, status or "open", since, until)
    _report(queue.replay(_targets(queue, refs, all_matching, where, yes, "replay"), _cli_caller(), why, force))


@deadletters.command(help="Mark dead letters as handled without replaying them; --why is required (audited).")
@click.argument("refs", nargs=-1)
@click.option("--all-matching", is_flag=True, help="Discard every OPEN dead letter matching the filters.")
@_filters
@click.option("--why", required=True, help="Why they are discarded (kept in the audit).")
@click.option("--force", is_flag=True, help="Discard even when already replayed.")
@click.option("--yes", is_flag=True, help="Do not ask before discarding --all-matching.")
@click.pass_obj
def discard(settings: Settings, refs, all_matching, origin, stage, reason, text, status, since, until, topic, why,
            force, yes) -> None:
    queue = _queue(settings, topic)
    where = _filter(origin, stage, reason, text, status or "open", since, until)
    _report(queue.discard(_targets(queue, refs, all_matching, where, yes, "discard"), _cli_caller(), why, force))


def register(cli: click.Group, bench: click.Group) -> None:
    subgroup(cli, "serve", "Run a Veiviser service.").add_command(serve_operators)
    cli.add_command(deadletters)
