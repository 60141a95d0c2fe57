"""The platform settings: one object per process, read once at start from VEIVISER_* variables.

Every setting has a working default for a developer machine. A bad value fails at start with the
variable's name, the value and what is allowed (see `load_settings`). Nothing else reads the
environment: code that needs a setting is handed this object.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "SettingsError", "load_settings"]

ENV_PREFIX = "VEIVISER_"


class SettingsError(Exception):
    """A VEIVISER_* variable is missing or has a bad value; the message names it and the fix."""


class Settings(BaseSettings):
    """Where the stack runs and how `veiviser up` starts it.

    Each field is read from the environment variable VEIVISER_<FIELD NAME IN UPPER CASE>.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    run_dir: Path = Field(
        default=Path(".run"),
        description="Where `veiviser up` keeps data, logs and pid files of the processes it starts.",
    )
    bootstrap_servers: str | None = Field(
        default=None,
        description="An existing Kafka cluster (host:port,...). When set, `up` starts no broker.",
    )
    kafka_mode: Literal["single", "cluster"] = Field(
        default="single",
        description="single: one broker+controller; cluster: three, for fault tests.",
    )
    kafka_host: str = Field(default="127.0.0.1", description="Address the brokers listen on.")
    kafka_port: int = Field(
        default=9092,
        ge=1024,
        le=65000,
        description="First broker port; node i listens on port+2i, its controller on port+2i+1.",
    )
    kafka_heap: str = Field(default="512m", description="Java heap of each broker (-Xmx).")
    kafka_cache_dir: Path = Field(
        default=Path.home() / ".cache" / "veiviser" / "kafka",
        description="Where the resolved Kafka jars are kept between runs (one folder per version).",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="An existing PostgreSQL server with PostGIS. When set, `up` starts no database.",
    )
    pg_port: int = Field(
        default=55432, ge=1024, le=65535, description="Port of the project-owned PostgreSQL cluster."
    )
    startup_timeout_s: float = Field(
        default=60.0, gt=0, description="How long `up` waits for a broker or database to answer."
    )

    @field_validator("bootstrap_servers")
    @classmethod
    def _check_bootstrap(cls, value: str | None) -> str | None:
        if value is None:
            return None
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"{server!r} is not host:port; write e.g. 127.0.0.1:9092,127.0.0.1:9094")
        return value

    @property
    def run_path(self) -> Path:
        """The run directory as an absolute path."""
        return self.run_dir.expanduser().resolve()


def load_settings(**overrides: object) -> Settings:
    """Read the settings once; a bad value raises SettingsError naming the variable and the fix."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_explain(exc)) from None


def _explain(exc: ValidationError) -> str:
    lines = ["bad configuration:"]
    for error in exc.errors():
        name = ENV_PREFIX + "_".join(str(part) for part in error["loc"]).upper()
        value = error.get("input")
        lines.append(f"  {name}={value!r}: {error['msg']}. Fix the variable or unset it for the default.")
    return "\n".join(lines)
