"""The whole pipeline on one machine, for `make run` / `veiviser run`: every worker and service of the
project as child processes beside the running stack, and the simulated office systems feeding it.

    simulator ─▶ Kafka ─▶ router worker ─▶ follow-ups ─▶ planner worker ─▶ route plans
                   ▲                         │
    intake (8081) ─┘   field page (8083) ◀───┘ visits     operators console (8084)   metrics: 9108-9110

Services need bearer tokens and have no default ones. When the environment names none, `dev_tokens` makes
random ones for this run (one per simulated field worker, an office system, an operator), keeps them in
`.run/dev-tokens.env` (mode 0600) and the run prints where to use them. A part that stops stops the run
(its log says why); Ctrl-C or SIGTERM stops every part and waits for it.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from infra.errors import InfraError

__all__ = ["Part", "parts", "dev_tokens", "Supervisor", "PartStopped", "FIELD_WORKERS"]

VEIVISER = str(Path(sys.executable).parent / "veiviser")
FIELD_WORKERS = tuple(f"fw-{n:03d}" for n in range(12))  # the simulator's field workers (events.simulator)
TOKEN_VARIABLES = ("VEIVISER_INTAKE_TOKENS", "VEIVISER_FIELD_TOKENS", "VEIVISER_OPERATORS_TOKENS")
STOP_WAIT_S = 20.0


class PartStopped(InfraError):
    """A part of the pipeline stopped by itself: the run stops, and the message names the part's log."""


@dataclass(frozen=True)
class Part:
    name: str
    argv: tuple[str, ...]
    url: str = ""  # where a person or a scraper reaches it
    delay_s: float = 0.0  # started this long after the others (the simulator waits for the workers)
    env: tuple[tuple[str, str], ...] = ()  # its own settings on top of the run's environment


def parts(events: int, rate: float, seed: int, simulate: bool = True) -> list[Part]:
    """What runs, in start order."""
    found = [
        Part("router", (VEIVISER, "worker", "router", "--loglevel", "info"), "http://127.0.0.1:9108/metrics",
             env=(("VEIVISER_STREAMS_METRICS_PORT", "9108"),)),
        Part("planner", (VEIVISER, "worker", "planner", "--loglevel", "info"), "http://127.0.0.1:9110/metrics",
             env=(("VEIVISER_PLANNER_METRICS_PORT", "9110"),)),
        Part("health", (VEIVISER, "worker", "health", "--metrics-port", "9109"), "http://127.0.0.1:9109/metrics"),
        Part("intake", (VEIVISER, "serve", "intake"), "http://127.0.0.1:8081/docs"),
        Part("field", (VEIVISER, "serve", "field"), "http://127.0.0.1:8083/"),
        Part("operators", (VEIVISER, "serve", "operators"), "http://127.0.0.1:8084/"),
    ]
    if simulate:
        found.append(Part("simulator", (VEIVISER, "simulate", "--events", str(events), "--rate", str(rate),
                                        "--seed", str(seed)), delay_s=10.0))
    return found


def dev_tokens(environ: Mapping[str, str], run_dir: Path) -> dict[str, str]:
    """Token variables for the services: those the environment sets are kept; the others are made for this
    run and written to run_dir/dev-tokens.env (0600)."""
    made = {name: _made(name) for name in TOKEN_VARIABLES if not environ.get(name)}
    if made:
        run_dir.mkdir(parents=True, exist_ok=True)
        target = run_dir / "dev-tokens.env"
        target.touch(mode=0o600)
        target.chmod(0o600)
        target.write_text("".join(f"export {k}='{v}'\n" for k, v in made.items()))
    return made


def _made(variable: str) -> str:
    token = lambda: secrets.token_urlsafe(24)  # noqa: E731
    if variable == "VEIVISER_INTAKE_TOKENS":
        return f"office-demo={token()}"
    if variable == "VEIVISER_FIELD_TOKENS":
        return ",".join(f"{worker}={token()}" for worker in FIELD_WORKERS)
    return f"operator:operator={token()}"


def first_token(pairs: str) -> str:
    """The token of the first 'who=token' pair (for the printed links)."""
    return pairs.split(",")[0].split("=", 1)[1]


@dataclass
class Supervisor:
    """Starts the parts, watches them, stops them all."""

    log_dir: Path
    env: dict[str, str]
    running: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, part: Part) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{part.name}.log").open("ab")
        self.running[part.name] = subprocess.Popen(part.argv, env={**self.env, **dict(part.env)}, stdout=log,
                                                   stderr=subprocess.STDOUT, start_new_session=True)

    def watch(self, until: Callable[[], bool], poll_s: float = 0.5) -> None:
        """Until `until()` is true; PartStopped when a part stopped (a finished simulator is fine)."""
        while not until():
            for name, process in self.running.items():
                code = process.poll()
                if code is not None and not (name == "simulator" and code == 0):
                    raise PartStopped(f"{name} stopped (exit {code}); its log: {self.log_dir / (name + '.log')}")
            time.sleep(poll_s)

    def stop(self) -> dict[str, int | None]:
        """SIGTERM to every part, then wait (SIGKILL after STOP_WAIT_S); the exit codes."""
        for process in self.running.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT_S
        codes = {}
        for name, process in self.running.items():
            try:
                codes[name] = process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                codes[name] = process.wait()
        return codes
