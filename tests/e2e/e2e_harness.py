"""A private, real ``systemd --user`` (plus journald) for the end-to-end suite.

Everything lives in one temp dir: the runtime dir (bus, notify socket), HOME and the XDG dirs the
manager reads units from. Processes are started and ended by PID only. The manager logs at debug level
to the journal so tests can read the sd_notify messages it received (READY=1, RELOADING=1, ...).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

SYSTEMD = Path("/lib/systemd/systemd")
JOURNALD = Path("/lib/systemd/systemd-journald")
JOURNAL_SOCKET = Path("/run/systemd/journal/socket")
BOOTED_MARKER = Path("/run/systemd/system")
COMMAND_TIMEOUT_S = 60.0
REQUIRED_TOOLS = ("systemctl", "systemd-run", "journalctl", "busctl", "tmux")

T = TypeVar("T")


class HarnessError(RuntimeError):
    """The harness could not set up or observe what a test needs."""


def wait_for(what: str, check: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.1) -> T:
    """Poll ``check`` until it returns something other than None/False; raise after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise HarnessError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def missing_prerequisites() -> list[str]:
    """What this machine lacks to run the suite (empty when it can)."""
    missing = [str(p) for p in (SYSTEMD, JOURNALD) if not os.access(p, os.X_OK)]
    missing += [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if os.geteuid() != 0 and not BOOTED_MARKER.is_dir():
        missing.append(f"{BOOTED_MARKER} (creating it needs root)")
    return missing


def journal_is_running() -> bool:
    """True when something answers on journald's socket (a stale socket file does not count)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(str(JOURNAL_SOCKET))
        except OSError:
            return False
    return True


def terminate(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """End a process we started: SIGTERM, then SIGKILL, by its PID only."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait(timeout=timeout)


def pid_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class UserManager:
    """One private ``systemd --user`` and the journald it logs through."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="orc-e2e-"))
        self.runtime_dir = self.root / "run"
        self.home = self.root / "home"
        self.manager_log = self.root / "manager.log"
        self.env = self._make_env()
        self.manager: subprocess.Popen[bytes] | None = None
        self.journald: subprocess.Popen[bytes] | None = None
        self.since = int(time.time()) - 1  # journal queries ignore entries of earlier runs (PIDs recur)

    def _make_env(self) -> dict[str, str]:
        self.runtime_dir.mkdir(mode=0o700)
        dirs = {
            "HOME": self.home,
            "XDG_CONFIG_HOME": self.home / ".config",
            "XDG_DATA_HOME": self.home / ".local" / "share",
            "XDG_STATE_HOME": self.home / ".local" / "state",
            "XDG_CACHE_HOME": self.home / ".cache",
        }
        for path in dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        env = {name: str(path) for name, path in dirs.items()}
        env |= {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C.UTF-8",
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
            "DBUS_SESSION_BUS_ADDRESS": f"unix:path={self.runtime_dir / 'bus'}",
            "SYSTEMD_PAGER": "",
            "SYSTEMD_COLORS": "0",
        }
        return env

    # --- lifecycle -------------------------------------------------------------------------------

    def boot(self) -> None:
        BOOTED_MARKER.mkdir(parents=True, exist_ok=True)
        if not journal_is_running():
            log = (self.root / "journald.log").open("wb")
            self.journald = subprocess.Popen(
                [str(JOURNALD)], stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
            )
            wait_for("systemd-journald's socket", journal_is_running, timeout=15)
        log = self.manager_log.open("wb")
        self.manager = subprocess.Popen(
            [str(SYSTEMD), "--user", "--log-target=journal", "--log-level=debug"],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        manager = self.manager

        def booted() -> bool:
            if manager.poll() is not None:
                raise HarnessError(f"systemd --user exited with {manager.returncode}; see {self.manager_log}")
            if not (self.runtime_dir / "bus").exists():
                return False
            state = self.systemctl("is-system-running", check=False).stdout.strip()
            return state in ("running", "degraded")

        wait_for("systemd --user to finish starting", booted, timeout=60, interval=0.2)

    def shutdown(self) -> None:
        if self.manager is not None and self.manager.poll() is None:
            self.systemctl("exit", check=False, timeout=15)
            try:
                self.manager.wait(timeout=15)
            except subprocess.TimeoutExpired:
                terminate(self.manager)
        if self.journald is not None:
            terminate(self.journald)
        if os.environ.get("TMUX_ORC_E2E_KEEP") != "1":
            shutil.rmtree(self.root, ignore_errors=True)

    # --- commands --------------------------------------------------------------------------------

    def run(
        self,
        argv: Sequence[str],
        *,
        check: bool = True,
        timeout: float = COMMAND_TIMEOUT_S,
        extra_env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command with the manager's environment, bounded in time."""
        env = self.env | dict(extra_env or {})
        done = subprocess.run(
            list(argv), env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise HarnessError(f"{' '.join(argv)} exited {done.returncode}: {done.stdout}{done.stderr}")
        return done

    def systemctl(
        self, *args: str, check: bool = True, timeout: float = COMMAND_TIMEOUT_S
    ) -> subprocess.CompletedProcess[str]:
        return self.run(["systemctl", "--user", "--no-pager", *args], check=check, timeout=timeout)

    def show(self, unit: str, *props: str) -> dict[str, str]:
        """``systemctl --user show -p ...`` as a dict."""
        out = self.systemctl("show", unit, *(f"--property={p}" for p in props)).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def prop(self, unit: str, name: str) -> str:
        return self.show(unit, name).get(name, "")

    def wait_state(self, unit: str, state: str, timeout: float = 30.0) -> dict[str, str]:
        """Wait until ``ActiveState`` is ``state``; return the unit's main properties then."""
        props = ("ActiveState", "SubState", "MainPID", "NRestarts", "ExecMainPID", "ExecMainStatus", "Result")

        def reached() -> dict[str, str] | None:
            shown = self.show(unit, *props)
            return shown if shown.get("ActiveState") == state else None

        return wait_for(f"{unit} to become {state}", reached, timeout=timeout)

    def write_unit_file(self, relative: str, content: str) -> Path:
        """Write a file under ``$XDG_CONFIG_HOME/systemd/user`` (a unit or a drop-in)."""
        path = Path(self.env["XDG_CONFIG_HOME"], "systemd", "user", relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        return path

    # --- observation -----------------------------------------------------------------------------

    def journal(self, *matches: str) -> list[dict[str, Any]]:
        """Journal entries (JSON) matching ``FIELD=value`` terms, oldest first."""
        out = self.run(["journalctl", "--no-pager", "-o", "json", f"--since=@{self.since}", *matches]).stdout
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    def wait_journal(
        self, what: str, predicate: Callable[[dict[str, Any]], bool], *matches: str, timeout: float = 20.0
    ) -> dict[str, Any]:
        """Wait for a journal entry matching ``matches`` and ``predicate`` (the stream is asynchronous)."""

        def found() -> dict[str, Any] | None:
            return next((e for e in self.journal(*matches) if predicate(e)), None)

        return wait_for(what, found, timeout=timeout, interval=0.3)

    def notifications(self, unit: str) -> list[str]:
        """The sd_notify messages the manager logged (at debug level) for ``unit``, oldest first.

        Each is ``"<pid> (READY=1, STATUS=...)"`` as systemd words it.
        """
        assert self.manager is not None
        marker = f"{unit}: Got notification message from PID "
        entries = self.journal(f"_PID={self.manager.pid}")
        return [e["MESSAGE"][len(marker) :] for e in entries if str(e.get("MESSAGE", "")).startswith(marker)]


@contextlib.contextmanager
def booted_manager() -> Iterator[UserManager]:
    """A booted private user manager, shut down (by PID) afterwards whatever happens."""
    manager = UserManager()
    try:
        manager.boot()
        yield manager
    finally:
        manager.shutdown()
