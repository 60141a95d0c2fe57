"""Errors of the platform layer (infra/): starting, stopping and configuring the local stack.

    InfraError                      base; every message says what is wrong and what to do
    ├── PrerequisiteError           Java, Maven or PostgreSQL/PostGIS missing or too old
    ├── ResolveError                Maven could not resolve the Kafka jars
    ├── PortInUseError              a port the stack needs is taken by another process
    ├── StartupError                a broker or the database did not come up (log tail included)
    ├── NotRunningError             nothing to talk to: the stack is not up and no server is configured
    ├── MigrationError              a schema migration failed or an applied one was edited
    └── TopicSpecError              the topic spec is invalid or asks for a change Kafka cannot make
"""

from __future__ import annotations

__all__ = [
    "InfraError",
    "PrerequisiteError",
    "ResolveError",
    "PortInUseError",
    "StartupError",
    "NotRunningError",
    "MigrationError",
    "TopicSpecError",
]


class InfraError(Exception):
    """Base of the platform errors."""


class PrerequisiteError(InfraError):
    """A tool the stack needs is missing or too old."""


class ResolveError(InfraError):
    """Maven could not resolve the Kafka broker jars."""


class PortInUseError(InfraError):
    """A port the stack needs is already taken by a process it did not start."""


class StartupError(InfraError):
    """A process was started but did not become ready."""


class NotRunningError(InfraError):
    """The stack is not running and no external server is configured."""


class MigrationError(InfraError):
    """A migration failed, or an applied migration's file has changed since."""


class TopicSpecError(InfraError):
    """The topic spec is invalid, or asks for a change Kafka cannot make."""
