"""PostgreSQL with PostGIS: an existing server named by VEIVISER_DATABASE_URL, or a project-owned cluster.

The project-owned cluster lives in <run dir>/postgres (data, log, socket), listens on 127.0.0.1 at
VEIVISER_PG_PORT, and has a database and role `veiviser` whose password is generated at first start and
kept in <run dir>/postgres/password (mode 0600): there is no default password. Debian's PostgreSQL and
PostGIS packages are installed with apt-get when missing. As root, the server runs as the `postgres`
system user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import secrets
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from infra.errors import PrerequisiteError, StartupError
from infra.processes import require_free_port

__all__ = ["LocalPostgres", "data_root", "ensure_installed", "check_reachable", "ensure_postgis"]

DB = "veiviser"
APT_ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
# The ledger writes every event (processed id, case state, audit, decision): with Debian's defaults (128 MB of
# shared buffers, a checkpoint per GB of WAL) the indexes of a grown ledger fall out of the buffers and each
# checkpoint makes the next writes log whole pages again. Safe settings: nothing here trades durability.
LEDGER_TUNING = ("-c shared_buffers=512MB -c max_wal_size=4GB -c checkpoint_timeout=15min "
                 "-c checkpoint_completion_target=0.9 -c wal_compression=on")


def data_root(run_dir: Path) -> Path:
    """<run dir>/postgres, unless the server's user cannot reach it (as root, under a private home such as
    /root): then /var/lib/veiviser/<run dir's digest>/postgres, one per checkout."""
    wanted = run_dir / "postgres"
    if os.geteuid() != 0 or _postgres_can_traverse(run_dir):
        return wanted
    digest = hashlib.sha256(str(run_dir).encode()).hexdigest()[:12]
    return Path("/var/lib/veiviser") / digest / "postgres"


def _postgres_can_traverse(path: Path) -> bool:
    existing = next(p for p in [path, *path.parents] if p.exists())
    probe = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(existing)], capture_output=True)
    return probe.returncode == 0


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _has_postgis(bin_dir: Path) -> bool:
    return Path(f"/usr/share/postgresql/{bin_dir.parts[-2]}/extension/postgis.control").exists()


def ensure_installed(on_status: Callable[[str], None] = lambda _: None) -> Path:
    """The PostgreSQL bin folder, after installing PostgreSQL and PostGIS with apt-get when missing."""
    bin_dir = _bin_dir()
    if bin_dir and _has_postgis(bin_dir):
        return bin_dir
    if os.geteuid() != 0:
        raise PrerequisiteError(
            "PostgreSQL with PostGIS is not installed and installing needs root. Run "
            "`sudo apt-get install postgresql postgresql-15-postgis-3` (use your PostgreSQL version), "
            "or point VEIVISER_DATABASE_URL at a server that has PostGIS."
        )
    on_status("installing PostgreSQL and PostGIS from Debian's packages (apt-get)")
    _no_default_cluster()
    _apt("update")
    if bin_dir is None:
        _apt("install", "-y", "--no-install-recommends", "postgresql")
        bin_dir = _bin_dir()
    _apt("install", "-y", "--no-install-recommends", f"postgresql-{bin_dir.parts[-2]}-postgis-3")
    return bin_dir


def _no_default_cluster() -> None:
    """Stop Debian's package from creating and starting its own cluster on port 5432."""
    conf = Path("/etc/postgresql-common/createcluster.conf")
    if not conf.exists():
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text("create_main_cluster = false\n")


def _apt(*args: str) -> None:
    done = subprocess.run(["apt-get", *args], capture_output=True, text=True, env=APT_ENV)
    if done.returncode != 0:
        raise PrerequisiteError(
            f"`apt-get {' '.join(args)}` failed (exit {done.returncode}):\n{done.stderr.strip()[-1200:]}\n"
            "Install PostgreSQL and PostGIS by hand, or set VEIVISER_DATABASE_URL to a server with PostGIS."
        )


def check_reachable(url: str, timeout_s: int = 5) -> None:
    """Raise StartupError when the server at url does not accept a connection."""
    import psycopg2

    try:
        psycopg2.connect(url, connect_timeout=timeout_s).close()
    except psycopg2.OperationalError as exc:
        raise StartupError(
            f"the database named by VEIVISER_DATABASE_URL does not answer: {str(exc).strip()}. "
            "Fix the URL or start that server; unset the variable to let `veiviser up` run its own."
        ) from None


def ensure_postgis(url: str) -> None:
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        try:
            cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        except psycopg2.Error as exc:
            raise PrerequisiteError(
                f"cannot enable PostGIS in the configured database: {str(exc).strip()}. Install PostGIS on "
                "that server (Debian: postgresql-<version>-postgis-3) or let a superuser run "
                "`CREATE EXTENSION postgis`."
            ) from None
    conn.close()


@dataclass(frozen=True)
class LocalPostgres:
    """The project-owned cluster under <run dir>/postgres."""

    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    @property
    def password_file(self) -> Path:
        return self.root / "password"

    @property
    def url(self) -> str:
        password = quote(self.password_file.read_text().strip(), safe="")
        return f"postgresql://{DB}:{password}@127.0.0.1:{self.port}/{DB}"

    def running(self) -> bool:
        bin_dir = _bin_dir()
        if bin_dir is None or not (self.data / "PG_VERSION").exists():
            return False
        return self._run(bin_dir / "pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def start(self, bin_dir: Path, timeout_s: float) -> None:
        """Initialise (first time), start, and create the role, database and postgis extension."""
        if self.running():
            return
        require_free_port("127.0.0.1", self.port, "VEIVISER_PG_PORT")
        self._init(bin_dir)
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} {LEDGER_TUNING}"
        cmd = [bin_dir / "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(int(timeout_s))]
        done = self._run(*cmd, "-o", opts, "start", check=False)
        if done.returncode != 0:
            tail = self.log.read_text(errors="replace").strip().splitlines()[-10:] if self.log.exists() else []
            raise StartupError(
                f"PostgreSQL did not start in {self.data}:\n  " + "\n  ".join(tail or [done.stderr.strip()])
                + "\nRead the log above; `veiviser down --purge` starts from scratch."
            )
        self._create_database(bin_dir)

    def stop(self) -> bool:
        bin_dir = _bin_dir()
        if bin_dir is None or not self.running():
            return False
        self._run(bin_dir / "pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
        return True

    def _init(self, bin_dir: Path) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.password_file.exists():
            self.password_file.write_text(secrets.token_urlsafe(24))
            self.password_file.chmod(0o600)
        self._chown(self.root)
        self._run(bin_dir / "initdb", "-D", str(self.data), "-U", "postgres", "--auth-local=trust",
                  "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8")

    def _create_database(self, bin_dir: Path) -> None:
        password = self.password_file.read_text().strip().replace("'", "''")
        psql = [bin_dir / "psql", "-h", str(self.root), "-p", str(self.port), "-U", "postgres", "-v", "ON_ERROR_STOP=1"]
        exists = self._run(*psql, "-tAc", f"SELECT 1 FROM pg_roles WHERE rolname='{DB}'").stdout.strip()
        if not exists:  # the password goes through stdin, never on a command line
            self._run(*psql, stdin=f"CREATE ROLE {DB} LOGIN CREATEDB PASSWORD '{password}';")
            self._run(*psql, "-c", f"CREATE DATABASE {DB} OWNER {DB}")
        self._run(*psql, "-d", DB, "-c", "CREATE EXTENSION IF NOT EXISTS postgis")

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            for item in [path, *path.rglob("*")]:
                if item != self.password_file:
                    os.chown(item, user.pw_uid, user.pw_gid)

    def _run(self, *cmd: object, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess:
        args = [str(part) for part in cmd]
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                raise PrerequisiteError("running as root needs `runuser` (util-linux) to start PostgreSQL")
            args = ["runuser", "-u", "postgres", "--", *args]
        done = subprocess.run(args, capture_output=True, text=True, input=stdin)
        if check and done.returncode != 0:
            raise StartupError(f"`{' '.join(args)}` failed:\n{done.stderr.strip()[-1200:]}")
        return done
