"""Run real agent CLIs in a private tmux server and look at them the way the daemon does.

Generic pieces: :class:`TmuxBox` (a private tmux server on its own socket, own config ``/dev/null``),
:class:`Pane` (send keys, capture, wait for a screen, find the agent's pid under the pane's shell),
and :func:`live_observation` (classify a live pane with the project's detection engine).
Agent-specific homes and scenario drivers live in ``claude.py`` and ``codex.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.harness.daemon import TMUX_ORCD, DaemonProcess
from tmux_orc.model import PaneInfo

REPO = Path(__file__).resolve().parents[2]
AGENTS_DIR = REPO / ".cache" / "agents"
WIDTH, HEIGHT = 120, 40

# What never leaks from the test runner into the private tmux server and its panes.
# CI markers too: a CLI that sees CI (Gemini CLI, via is-in-ci) runs without its UI, as in a pipeline,
# where a person's terminal never has them.
_STRIP_ENV = ("TMUX", "TMUX_PANE", "NOTIFY_SOCKET", "INVOCATION_ID", "JOURNAL_STREAM", "WATCHDOG_USEC",
              "CI", "CONTINUOUS_INTEGRATION", "BUILD_NUMBER", "RUN_ID")
_STRIP_PREFIXES = ("ANTHROPIC_", "CLAUDE", "OPENAI_", "CODEX_", "GEMINI_", "LISTEN_", "CI_")


class ScreenTimeout(AssertionError):
    """A screen never matched; carries the last capture so the failure shows what was there."""

    def __init__(self, what: str, screen: str) -> None:
        super().__init__(f"timed out waiting for {what}; last screen:\n{screen}")
        self.screen = screen


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _STRIP_ENV and not k.startswith(_STRIP_PREFIXES)}
    env.update(extra)
    return env


@dataclass
class TmuxBox:
    """A private tmux server: ``tmux -S <root>/sock -f /dev/null``; never the user's own."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def socket(self) -> Path:
        return self.root / "tmux.sock"

    def tmux(self, *args: str, check: bool = True, env: Mapping[str, str] | None = None) -> str:
        proc = subprocess.run(
            ["tmux", "-S", str(self.socket), "-f", "/dev/null", *args],
            env=clean_env({**self.env, **(env or {})}),
            capture_output=True,
            text=True,
            timeout=20,
        )
        if check and proc.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc.stdout

    def new_pane(self, session: str, window: str, cwd: Path, env: Mapping[str, str]) -> Pane:
        """A new session (or window, when the session exists) running an interactive bash, like a user's."""
        env_args: list[str] = []
        for key, value in env.items():
            env_args += ["-e", f"{key}={value}"]
        shell = ["bash", "--noprofile", "--norc", "-i"]
        fmt = "#{pane_id}"
        # tmux takes PATH from the client's environment, not from -e: hand it over both ways.
        client_env = {"PATH": env["PATH"]} if "PATH" in env else {}
        if not self.has_session(session):
            # `new-session -e` would set the session's environment, inherited by every later window:
            # the session starts with a plain shell window and each agent gets its own -e in new-window.
            self.tmux(
                "new-session",
                "-d",
                "-s",
                session,
                "-n",
                "shell",
                "-x",
                str(WIDTH),
                "-y",
                str(HEIGHT),
                "-c",
                str(cwd),
                *shell,
            )
        out = self.tmux(
            "new-window",
            "-d",
            "-P",
            "-F",
            fmt,
            "-t",
            f"={session}:",
            "-n",
            window,
            "-c",
            str(cwd),
            *env_args,
            *shell,
            env=client_env,
        )
        pane = Pane(self, out.strip())
        pane.wait_for(lambda s: s.rstrip().endswith("$"), "shell prompt", timeout=10)
        return pane

    def has_session(self, session: str) -> bool:
        if not self.socket.exists():
            return False
        proc = subprocess.run(
            ["tmux", "-S", str(self.socket), "-f", "/dev/null", "has-session", "-t", f"={session}"],
            capture_output=True,
            env=clean_env(self.env),
            timeout=10,
        )
        return proc.returncode == 0

    def kill_server(self) -> None:
        """Stop the server by its own pid (never by name), then whatever is left under it."""
        if not self.socket.exists():
            return
        out = self.tmux("display-message", "-p", "#{pid}", check=False).strip()
        self.tmux("kill-server", check=False)
        if out.isdigit():
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and Path(f"/proc/{out}").exists():
                time.sleep(0.05)


@dataclass
class Pane:
    """One tmux pane of a :class:`TmuxBox`, addressed by its id (``%3``)."""

    box: TmuxBox
    pane_id: str

    def fmt(self, fmt: str) -> str:
        return self.box.tmux("display-message", "-p", "-t", self.pane_id, fmt).rstrip("\n")

    def capture(self) -> str:
        """The visible screen as plain text (what ``capture-pane -p`` gives the daemon)."""
        return self.box.tmux("capture-pane", "-p", "-t", self.pane_id)

    def title(self) -> str:
        return self.fmt("#{pane_title}")

    def keys(self, *keys: str) -> None:
        """tmux key names: ``Enter``, ``Escape``, ``BTab``, ``Down``, ``C-c``..."""
        self.box.tmux("send-keys", "-t", self.pane_id, *keys)

    def type(self, text: str) -> None:
        """Literal text, without pressing Enter."""
        self.box.tmux("send-keys", "-t", self.pane_id, "-l", text)

    def run(self, command: str) -> None:
        self.type(command)
        time.sleep(0.1)
        self.keys("Enter")

    def wait_for(
        self, predicate: Callable[[str], bool], what: str, timeout: float = 30.0, interval: float = 0.25
    ) -> str:
        """Poll the screen until ``predicate(screen)``; raise :class:`ScreenTimeout` after ``timeout``."""
        deadline = time.monotonic() + timeout
        screen = ""
        while True:
            screen = self.capture()
            if predicate(screen):
                return screen
            if time.monotonic() > deadline:
                raise ScreenTimeout(what, screen)
            time.sleep(interval)

    def wait_text(self, *needles: str, timeout: float = 30.0) -> str:
        """Wait until every needle is on screen (a no-break space on screen matches a plain space)."""
        return self.wait_for(
            lambda s: all(n in s.replace("\xa0", " ") for n in needles), " + ".join(map(repr, needles)), timeout
        )

    def wait_regex(self, pattern: str, timeout: float = 30.0) -> str:
        rx = re.compile(pattern, re.M)
        return self.wait_for(lambda s: rx.search(s) is not None, repr(pattern), timeout)

    def wait_stable(self, seconds: float = 1.5, timeout: float = 20.0) -> str:
        """Wait until the screen has not changed for ``seconds`` (animations make this fail: use sparingly)."""
        deadline = time.monotonic() + timeout
        last, since = self.capture(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now = self.capture()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= seconds:
                return now
        raise ScreenTimeout(f"screen stable for {seconds}s", last)

    def info(self) -> PaneInfo:
        """The pane as the daemon's tmux layer sees it (one ``display-message`` with every field)."""
        keys = (
            "pane_id",
            "session_name",
            "window_index",
            "pane_index",
            "pane_pid",
            "pane_current_command",
            "pane_dead",
            "pane_dead_status",
            "pane_width",
            "pane_height",
            "window_activity",
            "session_id",
            "window_id",
            "pane_in_mode",
            "window_name",
            "pane_title",
        )
        # The title comes last: a tab inside it cannot shift the other fields.
        values = self.fmt("\t".join(f"#{{{k}}}" for k in keys)).split("\t", len(keys) - 1)
        f = dict(zip(keys, values, strict=True))
        return PaneInfo(
            pane_id=f["pane_id"],
            session=f["session_name"],
            window_index=int(f["window_index"]),
            window_name=f["window_name"],
            pane_index=int(f["pane_index"]),
            pane_pid=int(f["pane_pid"]),
            current_command=f["pane_current_command"],
            dead=f["pane_dead"] == "1",
            dead_status=int(f["pane_dead_status"]) if f["pane_dead_status"] else None,
            title=f["pane_title"],
            width=int(f["pane_width"]),
            height=int(f["pane_height"]),
            window_activity=float(f["window_activity"] or 0),
            session_id=f["session_id"],
            window_id=f["window_id"],
            in_mode=f["pane_in_mode"] == "1",
        )

    def pane_pid(self) -> int:
        return int(self.fmt("#{pane_pid}"))

    def agent_pid(self, names: Iterable[str], deepest: bool = False) -> int | None:
        """Pid of a process under the pane whose comm or argv[0..1] basename is in ``names``.

        The shallowest one by default (``claude``); ``deepest`` picks the last one found, e.g. the native
        ``codex`` binary under its node launcher.
        """
        wanted = set(names)
        found = [pid for pid in descendants(self.pane_pid()) if process_names(pid) & wanted]
        if not found:
            return None
        return found[-1] if deepest else found[0]

    def signal_agent(self, names: Iterable[str], sig: signal.Signals, deepest: bool = False) -> int:
        """Send ``sig`` to the agent process found under this pane, by its pid; returns the pid."""
        pid = self.agent_pid(names, deepest)
        if pid is None:
            raise AssertionError(f"no process named {sorted(names)} under pane {self.pane_id}")
        os.kill(pid, sig)
        return pid


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    task_dir = Path(f"/proc/{pid}/task")
    try:
        tasks = list(task_dir.iterdir())
    except OSError:
        return kids
    for task in tasks:
        try:
            kids += [int(x) for x in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return kids


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, breadth first (via /proc/PID/task/*/children)."""
    out: list[int] = []
    frontier = [pid]
    while frontier:
        nxt: list[int] = []
        for parent in frontier:
            for child in _children(parent):
                out.append(child)
                nxt.append(child)
        frontier = nxt
    return out


def process_names(pid: int) -> set[str]:
    names: set[str] = set()
    try:
        names.add(Path(f"/proc/{pid}/comm").read_text().strip())
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return names
    for arg in argv[:2]:
        if arg:
            names.add(os.path.basename(arg.decode(errors="replace")))
    return names


def proc_state(pid: int) -> str:
    """One-letter state from /proc/PID/stat ("" when gone)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return raw[raw.rfind(")") + 2 :].split()[0]


def wait_proc_state(pid: int, states: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    state = proc_state(pid)
    while state not in states and time.monotonic() < deadline:
        time.sleep(0.05)
        state = proc_state(pid)
    return state


# -- the real daemon beside real CLIs (test_real_daemon, test_real_resume, test_real_questions) -------------


def require_daemon_and(binary: Path, what: str, tools: Iterable[str] = ("tmux", "dbus-daemon")) -> None:
    """Skip the test unless ``tools`` are on PATH, tmux-orcd is installed and the CLI ``what`` is at ``binary``."""
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    if not Path(TMUX_ORCD).exists():
        pytest.skip(f"tmux-orcd is not installed at {TMUX_ORCD}")
    if not binary.exists():
        pytest.skip(f"{what} is not installed at {binary}: run scripts/install-agents")


def open_shell_session(box: TmuxBox, session: str) -> None:
    """The tmux server up before the daemon or the agent starts: a session whose only window is a plain shell."""
    size = ("-x", str(WIDTH), "-y", str(HEIGHT))
    box.tmux("new-session", "-d", "-s", session, "-n", "shell", *size, "bash", "--noprofile", "--norc", "-i")


def daemon_agent(daemon: DaemonProcess, pane_id: str) -> dict[str, Any]:
    """The daemon's ListAgents entry for the pane ({} when it names none)."""
    return next((agent for agent in daemon.agents() if agent["pane_id"] == pane_id), {})
