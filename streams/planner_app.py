"""The faust-streaming application of the planner: `bootstrap_planner` wires settings, topics and the agent.

    veiviser.followups.v1 ───┐
    veiviser.field-shifts.v1 ┼─▶ agent "planner" (concurrency 1) ──▶ veiviser.route-plans.v1 (key = team id)
    veiviser.visit-events.v1 ┘        │                          ├─▶ veiviser.followups.v1 (office_appointment_requested
                                      │                          │   for each escalated visit; key = case id; the
                                      │                          │   planner skips its own kind)
                                      │                          └─▶ veiviser.dead-letter.v1 (origin in headers)
                                      └──▶ PostgreSQL (streams.plans; reads the ledger's case state)
    timer (VEIVISER_PLANNER_REPLAN_EVERY_S) ──▶ every active team re-planned (offered again / escalated)

Batches as in streams.app: acknowledged only after the body returned (stored and sent); a body that breaks
exits the worker without acknowledging (the batch is redelivered and the planner dedupes by id).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from events import topics
from streams import worker
from streams.app import FOLLOWUPS
from streams.fieldplan import PlannerConfig
from streams.planner import AGENT, PlannerAgent
from streams.retry import Backoff

log = logging.getLogger(__name__)
__all__ = ["PlannerSettings", "load_planner_settings", "PlannerWiring", "bootstrap_planner", "run_planner"]


class PlannerSettings(worker.WorkerSettings):
    """Settings of the planner worker, from VEIVISER_PLANNER_* variables (defaults work out of the box)."""

    model_config = SettingsConfigDict(env_prefix="VEIVISER_PLANNER_", extra="ignore", frozen=True)

    group: str = Field(default="veiviser-planner", pattern=r"^[A-Za-z0-9._-]{1,100}$",
                       description="faust app id = Kafka consumer group of the planner")
    followups_topic: str = Field(default=FOLLOWUPS)
    field_shifts_topic: str = Field(default=topics.FIELD_SHIFTS)
    visit_events_topic: str = Field(default=topics.VISIT_EVENTS)
    route_plans_topic: str = Field(default=topics.ROUTE_PLANS)
    dead_letter_topic: str = Field(default=topics.DEAD_LETTER)
    horizon_days: int = Field(default=3, ge=1, le=14, description="days planned ahead, today included")
    window_days: int = Field(default=5, ge=1, le=31, description="days a new visit may take place in")
    escalate_after_days: int = Field(default=3, ge=0, le=60,
                                     description="an unplanned visit waits this long, then becomes an office appointment")
    visit_minutes: int = Field(default=45, ge=5, le=480, description="length of a visit")
    youth_specialists: str = Field(default="", description="comma-separated worker ids who are youth specialists")
    max_route_minutes: int | None = Field(default=None, ge=10, le=1440, description="most travel minutes per route")
    exploration: int = Field(default=2, ge=1, le=5, description="VROOM exploration level (higher: slower, "
                             "sometimes shorter routes; see veiviser bench plan)")
    solver_threads: int = Field(default=1, ge=1, le=8)
    batch_size: int = Field(default=200, ge=1, le=10_000)
    batch_within_s: float = Field(default=0.5, gt=0, le=30)
    replan_every_s: float = Field(default=3600.0, ge=10, le=86400,
                                  description="every active team is planned again this often (a new day: unplanned "
                                  "visits offered again, overdue ones escalated)")
    consumer: str = Field(default=AGENT, min_length=1, max_length=100,
                          description="name under which processed message ids are recorded")

    def config(self) -> PlannerConfig:
        youth = frozenset(w.strip() for w in self.youth_specialists.split(",") if w.strip())
        return PlannerConfig(self.consumer, self.horizon_days, self.window_days, self.escalate_after_days,
                             self.visit_minutes, youth, self.max_route_minutes, exploration=self.exploration,
                             threads=self.solver_threads)


def load_planner_settings() -> PlannerSettings:
    """Read VEIVISER_PLANNER_* once; a bad value raises SettingsProblem naming the variable and the fix."""
    return worker.load(PlannerSettings, "VEIVISER_PLANNER_", "planner")


@dataclass
class PlannerWiring:
    app: Any  # faust.App
    settings: PlannerSettings
    database_url: str
    agent: PlannerAgent


def bootstrap_planner(bootstrap_servers: str, database_url: str, data_dir: str,
                      settings: PlannerSettings | None = None) -> PlannerWiring:
    """Build the planner app: faust app, the three source topics, the agent. Starts nothing."""
    settings = settings or load_planner_settings()
    app = worker.faust_app(settings.group, bootstrap_servers, data_dir, settings.replication_factor,
                           settings.session_timeout_s)
    agent = PlannerAgent(database_url, worker.sender(app), settings.config(), route_plans_topic=settings.route_plans_topic,
                         dead_letter_topic=settings.dead_letter_topic, followups_topic=settings.followups_topic,
                         backoff=Backoff(settings.retry_first_s, settings.retry_max_s))
    wiring = PlannerWiring(app, settings, database_url, agent)
    source = app.topic(settings.followups_topic, settings.field_shifts_topic, settings.visit_events_topic,
                       key_serializer="raw", value_serializer="raw")

    @app.agent(source, name=AGENT, concurrency=1)
    async def plan(messages):
        async for batch in messages.take_events(settings.batch_size, within=settings.batch_within_s):
            await worker.process_or_exit(agent, batch)

    # every planner worker ticks (faust's leader election needs the leader topic, disabled as in streams.app);
    # the per-team advisory lock serialises workers, so several only re-plan a team twice
    @app.timer(settings.replan_every_s)
    async def daily() -> None:
        try:
            summary = await agent.tick()
        except Exception:  # noqa: BLE001 - keep the worker consuming; the next tick tries again
            log.exception("planner: the periodic re-plan failed")
            return
        log.info("planner: periodic re-plan sent %d route event(s)", summary.followups)

    return wiring


def run_planner(wiring: PlannerWiring, loglevel: str = "warning") -> None:
    """Apply the migrations, then run the planner until stopped (SIGTERM/SIGINT stop it cleanly)."""
    worker.run(wiring.app, wiring.database_url, wiring.settings.metrics_port, loglevel)
