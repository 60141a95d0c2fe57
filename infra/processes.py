"""Background processes that `veiviser up` starts and `veiviser down` stops, and nothing else.

A started process gets its own session (process group) and a pid file that also records a marker: a
string from its command line (its config file's path). Stopping checks the marker against
/proc/PID/cmdline first, so a pid that was reused by an unrelated process is never signalled.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from infra.errors import PortInUseError

__all__ = ["Managed", "spawn", "exit_status", "port_in_use", "require_free_port", "describe_listener"]

_children: dict[int, subprocess.Popen] = {}  # processes this process started, for their exit status


@dataclass(frozen=True)
class Managed:
    """A process started by the stack, identified by its pid file."""

    pid_file: Path

    def read(self) -> tuple[int, str] | None:
        try:
            data = json.loads(self.pid_file.read_text())
            return int(data["pid"]), str(data["marker"])
        except (OSError, ValueError, KeyError):
            return None

    def pid(self) -> int | None:
        """The pid if the process is alive and still the one we started."""
        record = self.read()
        if record is None:
            return None
        pid, marker = record
        if pid in _children:  # started by this process: ask the kernel through our child handle
            return pid if _children[pid].poll() is None else None
        return pid if _cmdline_has(pid, marker) else None

    def alive(self) -> bool:
        return self.pid() is not None

    def stop(self, timeout_s: float = 20.0) -> bool:
        """SIGTERM the process group, SIGKILL after the timeout; True if something was stopped."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        _signal_group(pid, signal.SIGTERM)
        if not _wait_gone(pid, timeout_s):
            _signal_group(pid, signal.SIGKILL)
            _wait_gone(pid, 5.0)
        self.pid_file.unlink(missing_ok=True)
        return True


def spawn(cmd: list[str], log_path: Path, managed: Managed, marker: str, env: dict | None = None) -> int:
    """Start cmd detached in its own session, output to log_path; record pid and marker."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=env,
        )
    _children[proc.pid] = proc
    managed.pid_file.parent.mkdir(parents=True, exist_ok=True)
    managed.pid_file.write_text(json.dumps({"pid": proc.pid, "marker": marker, "cmd": cmd}))
    return proc.pid


def exit_status(managed: Managed) -> str:
    """How a process this process started ended ('still running' when it has not)."""
    record = managed.read()
    proc = _children.get(record[0]) if record else None
    code = proc.poll() if proc else None
    if code is None:
        return "still running" if proc else "unknown"
    return f"killed by signal {-code}" if code < 0 else f"exit status {code}"


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def require_free_port(host: str, port: int, setting: str) -> None:
    """Raise PortInUseError naming the holder and the setting that moves us elsewhere."""
    if port_in_use(host, port):
        holder = describe_listener(port)
        raise PortInUseError(
            f"port {host}:{port} is already taken by {holder}. Stop that process, or choose another "
            f"port with {setting}=<port> (run `veiviser status` to see what Veiviser itself runs)."
        )


def describe_listener(port: int) -> str:
    """Best-effort name of the process listening on a TCP port, from `ss -ltnp`."""
    try:
        out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return "another process"
    users = [line.split("users:")[-1] for line in out.stdout.splitlines() if "users:" in line]
    return f"another process {users[0].strip()}" if users else "another process"


def _cmdline_has(pid: int, marker: str) -> bool:
    """True if pid is a live process whose command line contains marker.

    While a process is inside execve its cmdline reads empty for a moment, so an empty read is retried.
    """
    for _ in range(20):
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except OSError:
            return False
        if raw:
            return marker in raw.replace(b"\0", b" ").decode(errors="replace") and state != "Z"
        time.sleep(0.05)
    return False


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
            return True
        time.sleep(0.1)
    return False


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True
