"""A HealthReport as coloured rich tables for the terminal (`veiviser health`)."""

from __future__ import annotations

import time

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from streams.health.burrow import Status
from streams.health.report import HealthReport, LatencySummary

__all__ = ["render", "coloured"]

MAX_PROBLEMS = 8
COLOURS = {Status.OK: "green", Status.WARN: "yellow", Status.ERR: "bold red", Status.STOP: "red",
           Status.STALL: "red", Status.REWIND: "magenta"}


def coloured(status: Status) -> Text:
    return Text(status.value, style=COLOURS[status])


def render(report: HealthReport, all_partitions: bool = False) -> RenderableType:
    """Everything in the report: groups, partitions, topics, brokers, dead letters, latency, problems."""
    parts: list[RenderableType] = [_headline(report), _groups(report), _partitions(report, all_partitions),
                                   _topics(report), _brokers(report), _dead_letters(report), _latency(report.latency)]
    if report.problems:
        lines = [f"• {line}" for line in report.problems[:MAX_PROBLEMS]]
        if len(report.problems) > MAX_PROBLEMS:
            lines.append(f"• ... and {len(report.problems) - MAX_PROBLEMS} more (--json has them all)")
        parts.append(Text("\n".join(lines), style="yellow"))
    return Group(*[p for p in parts if p is not None])


def _headline(report: HealthReport) -> Text:
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(report.taken_at))
    return Text.assemble("health ", coloured(report.status),
                         f"  ({report.samples} samples over {report.window_seconds:.0f} s, {when})")


def _seconds(value: float | None, estimated: bool = False) -> str:
    if value is None:
        return "-"
    text = f"{value:.1f}" if value < 100 else f"{value:,.0f}"
    return ("~" if estimated else "") + text


def _groups(report: HealthReport) -> Table:
    table = Table("group", "status", "state", "members", "partitions", "lag (messages)", "max lag (s)",
                  title="consumer groups", title_justify="left")
    for g in report.groups:
        table.add_row(g.group, coloured(g.status), g.state, str(g.members), str(len(g.partitions)),
                      f"{g.total_lag:,}", _seconds(g.max_lag_seconds))
    if not report.groups:
        table.caption = "no watched group (see VEIVISER_HEALTH_GROUPS or --group)"
    return table


def _partitions(report: HealthReport, all_partitions: bool) -> Table | None:
    rows = [(g, p) for g in report.groups for p in g.partitions if all_partitions or p.lag or p.status is not Status.OK]
    if not rows:
        return None
    table = Table("group", "topic/partition", "status", "offset", "end", "lag", "lag (s)", "owner", "why",
                  title="partitions" + ("" if all_partitions else " with lag or not OK"), title_justify="left")
    for g, p in rows:
        table.add_row(g.group, f"{p.topic}/{p.partition}", coloured(p.status), f"{p.offset:,}", f"{p.end_offset:,}",
                      f"{p.lag:,}", _seconds(p.lag_seconds, p.lag_seconds_estimated), p.owner or "-", p.reason)
    return table


def _topics(report: HealthReport) -> Table | None:
    if not report.topics:
        return None
    table = Table("topic", "partitions", "messages", "messages/s", title="throughput", title_justify="left")
    for t in report.topics:
        table.add_row(t.topic, str(t.partitions), f"{t.end_offset:,}", "-" if t.per_second is None
                      else f"{t.per_second:,.1f}")
    return table


def _brokers(report: HealthReport) -> Table | None:
    c = report.cluster
    if c is None:
        return None
    title = f"brokers (cluster {c.cluster_id}, controller {c.controller_id}, quorum leader {c.quorum_leader_id})"
    table = Table("node", "address", "state", title=title, title_justify="left")
    for b in c.brokers:
        state = Text("up", "green") if b.up else Text("FENCED" if b.fenced else "DOWN", "bold red")
        table.add_row(str(b.node_id), f"{b.host}:{b.port}" if b.host else "-", state)
    for v in c.controllers:
        behind = v in c.controllers_behind
        state = Text("leader" if v.leader else ("BEHIND" if behind else "following"), "bold red" if behind else "green")
        lag = "" if v.lag is None else f", {v.lag} records behind"
        table.add_row(f"controller {v.node_id}", f"KRaft voter{lag}", state)
    urp = Text(f"{len(c.under_replicated)} under-replicated", "yellow" if c.under_replicated else "green")
    offline = Text(f"{len(c.offline)} offline", "bold red" if c.offline else "green")
    table.add_row("", f"{c.topics} topics, {c.partitions} partitions", Text.assemble(urp, ", ", offline))
    return table


def _dead_letters(report: HealthReport) -> Table | None:
    d = report.dead_letters
    if d is None:
        return None
    title = f"dead letters on {d.topic}: {d.total:,} kept, {d.arrived:,} arrived in the window"
    table = Table("written", "source", "stage", "reason", title=title, title_justify="left")
    for letter in d.newest:
        table.add_row(time.strftime("%H:%M:%S", time.gmtime(letter.timestamp)), letter.source or "-",
                      letter.stage or "-", letter.reason)
    return table


def _latency(latency: LatencySummary | None) -> Table | None:
    if latency is None:
        return None
    table = Table("decisions", "p50 (s)", "p90 (s)", "p99 (s)", "max (s)", "clock ahead",
                  title=f"end-to-end latency, last {latency.minutes:g} min (event occurred -> decision recorded)",
                  title_justify="left")
    table.add_row(f"{latency.count:,}", _seconds(latency.p50), _seconds(latency.p90), _seconds(latency.p99),
                  _seconds(latency.max), str(latency.skewed))
    return table
