"""Schema migrations: plain SQL files in infra/migrations/, named NNNN_name.sql, applied in order.

Each file runs in its own transaction and is recorded in schema_migrations with a checksum. Applying is
idempotent: recorded files are skipped. A recorded file whose contents changed is an error (write a new
migration instead of editing an applied one). An advisory lock lets several processes start at once.
Number ranges: platform 0001-0009, geo 0010-0029, events/intake 0030-0049, streams 0050-0069.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from infra.errors import MigrationError

__all__ = ["Migration", "discover", "apply_migrations"]

FOLDER = Path(__file__).parent / "migrations"
NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
LOCK_ID = 0x5E1F15E2  # advisory lock key shared by every Veiviser process

LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text()

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover(folder: Path = FOLDER) -> list[Migration]:
    found, versions = [], {}
    for path in sorted(folder.glob("*.sql")):
        match = NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_lower_snake_name.sql; rename it")
        version = int(match.group(1))
        if version in versions:
            raise MigrationError(f"{path.name} and {versions[version]} share version {version}; renumber one")
        versions[version] = path.name
        found.append(Migration(version, match.group(2), path))
    return found


def apply_migrations(database_url: str, folder: Path = FOLDER) -> list[Migration]:
    """Apply the migrations not yet recorded; return those applied now."""
    import psycopg2

    migrations = discover(folder)
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_ID,))
            cur.execute(LEDGER)
        applied = _recorded(conn)
        done = [m for m in migrations if _apply_one(conn, m, applied)]
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", (LOCK_ID,))
        return done
    finally:
        conn.close()


def _recorded(conn) -> dict[int, str]:
    with conn, conn.cursor() as cur:
        cur.execute("SELECT version, checksum FROM schema_migrations")
        return dict(cur.fetchall())


def _apply_one(conn, migration: Migration, applied: dict[int, str]) -> bool:
    import psycopg2

    if migration.version in applied:
        if applied[migration.version] != migration.checksum:
            raise MigrationError(
                f"{migration.path.name} was applied but its contents have changed since. Applied migrations "
                "are never edited: revert the file and put the change in a new, higher-numbered migration."
            )
        return False
    try:
        with conn, conn.cursor() as cur:
            cur.execute(migration.sql)
            cur.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
    except psycopg2.Error as exc:
        raise MigrationError(f"{migration.path.name} failed and was rolled back: {str(exc).strip()}") from None
    return True
