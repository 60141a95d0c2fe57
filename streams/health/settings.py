"""Settings of the health sampler (`veiviser health`, `veiviser worker health`), from VEIVISER_HEALTH_*.

Defaults work out of the box: the project's consumer groups (veiviser-*), a sample every 5 s, a window of
12 samples (one minute), the dead-letter topic, and latency over the last 15 minutes.
"""

from __future__ import annotations

import fnmatch

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from events.topics import DEAD_LETTER
from streams.health.errors import HealthSettingsProblem

__all__ = ["HealthSettings", "load_health_settings"]

PREFIX = "VEIVISER_HEALTH_"


class HealthSettings(BaseSettings):
    """What the sampler watches and how often."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True)

    groups: str = Field(default="veiviser-*", min_length=1,
                        description="consumer groups to evaluate: comma-separated names or globs")
    topics: str = Field(default="veiviser.*", min_length=1,
                        description="topics whose throughput is shown (besides those the groups read): globs")
    interval_s: float = Field(default=5.0, gt=0, le=3600, description="seconds between samples")
    window: int = Field(default=12, ge=2, le=1000, description="samples in the sliding window (Burrow's intervals)")
    min_stop_s: float = Field(default=0.0, ge=0,
                              description="a group that stopped committing for less than this is never STOP")
    dead_letter_topic: str = Field(default=DEAD_LETTER, min_length=1)
    dead_letter_newest: int = Field(default=10, ge=0, le=500, description="newest dead-letter reasons shown")
    latency_minutes: float = Field(default=15.0, gt=0, le=10_080,
                                   description="end-to-end latency over decisions of the last N minutes")
    read_timestamps: bool = Field(default=True, description="lag in seconds from the oldest unread message's "
                                  "timestamp (else estimated from the produce rate)")
    metrics_port: int | None = Field(default=None, ge=1024, le=65535,
                                     description="`veiviser worker health` serves /metrics here")

    def group_patterns(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.groups.split(",") if p.strip())

    def watches(self, group: str) -> bool:
        return any(fnmatch.fnmatchcase(group, pattern) for pattern in self.group_patterns())

    def shows_topic(self, topic: str) -> bool:
        return any(fnmatch.fnmatchcase(topic, p.strip()) for p in self.topics.split(",") if p.strip())


def load_health_settings(**overrides: object) -> HealthSettings:
    """Read VEIVISER_HEALTH_* once (keyword overrides win, e.g. from command options); a bad value raises
    HealthSettingsProblem naming the variable and the fix."""
    try:
        return HealthSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        lines = [f"  {PREFIX}{'_'.join(map(str, e['loc'])).upper()}={e.get('input')!r}: {e['msg']}"
                 for e in exc.errors()]
        raise HealthSettingsProblem("bad health configuration:\n" + "\n".join(lines)
                                    + "\nFix the variable (or option) or unset it for the default.") from None
