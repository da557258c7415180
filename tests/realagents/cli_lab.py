"""One lab for the CLIs that need nothing but a private ``HOME``, an environment and a command line.

:class:`CliLab` owns a private tmux server and one fake model server; :meth:`CliLab.launch` opens a window
running bash with a fresh ``HOME`` (``XDG_*`` inside it), lets the CLI's module write its config there and
types the command into the shell, like a user. :class:`CliAgent` is one such CLI in its pane. The Gemini
CLI, opencode, Qwen Code and Aider drivers (``gemini.py``, ``opencode.py``, ``qwen.py``, ``aider.py``)
build on it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.realagents.fake_anthropic import FakeAnthropic
from tests.realagents.harness import Pane, TmuxBox, descendants
from tests.realagents.shots import Shot, shoot
from tmux_orc.model import State

PS1 = r"user@host:\w$ "
SHELL_PROMPT = r"^user@host:\S*\$[\s─]*$"  # bash prompt (a TUI rule may be left to its right)


def argv_of(pid: int) -> list[str]:
    """The process's argv from /proc ([] when gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def comm_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def process_tree(pane: Pane) -> list[dict[str, object]]:
    """Every process under the pane's shell: pid, comm and argv (what recognition has to work from)."""
    return [{"pid": pid, "comm": comm_of(pid), "argv": argv_of(pid)} for pid in descendants(pane.pane_pid())]


@dataclass
class CliAgent:
    """One CLI started in one pane; ``is_agent`` picks its main process out of the pane's tree."""

    pane: Pane
    started_at: float
    project: Path
    home: Path
    is_agent: Callable[[int], bool]

    def shot(self, scenario: str, label: State, note: str = "", screen: str | None = None) -> Shot:
        return shoot(self.pane, scenario, label, self.started_at, note, screen)

    def pid(self) -> int | None:
        """The agent's main process under the pane (the first one ``is_agent`` accepts)."""
        for pid in descendants(self.pane.pane_pid()):
            if self.is_agent(pid):
                return pid
        return None

    def signal(self, sig: signal.Signals) -> int:
        pid = self.pid()
        if pid is None:
            raise AssertionError(f"agent process not found under {self.pane.pane_id}: {process_tree(self.pane)}")
        os.kill(pid, sig)
        return pid

    def signal_tree(self, sig: signal.Signals) -> list[int]:
        """Send ``sig`` to every process under the pane's shell (a CLI that relaunches itself under a
        launcher freezes or dies whole, as with job control); returns the pids."""
        pids = descendants(self.pane.pane_pid())
        if not pids:
            raise AssertionError(f"no process under {self.pane.pane_id}")
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        return pids

    def send(self, text: str, settle: float = 0.3) -> None:
        self.pane.type(text)
        time.sleep(settle)
        self.pane.keys("Enter")

    def wait_shell(self, timeout: float = 15.0) -> str:
        return self.pane.wait_regex(SHELL_PROMPT, timeout=timeout)


def _reap_under(root: Path) -> None:
    """Stop every process whose program or working directory lies under this lab's root (ours), by pid:
    some CLIs leave servers behind their TUI."""
    mine: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        argv = argv_of(int(entry.name))
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            cwd = ""
        if (argv and argv[0].startswith(f"{root}/")) or cwd.startswith(f"{root}/"):
            mine.append(int(entry.name))
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in mine:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in mine):
            time.sleep(0.1)


@dataclass
class CliLab:
    """A private tmux server and one fake model server; use as a context manager."""

    root: Path
    fake: FakeAnthropic
    session: str = "team"
    box: TmuxBox = field(init=False)

    def __post_init__(self) -> None:
        self.box = TmuxBox(self.root)

    def __enter__(self) -> CliLab:
        self.fake.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.box.kill_server()
        _reap_under(self.root)
        self.fake.stop()

    def launch(
        self,
        window: str,
        command: str,
        env: Mapping[str, str],
        path: Iterable[Path],
        is_agent: Callable[[int], bool],
        prepare: Callable[[Path, Path], None] | None = None,
    ) -> CliAgent:
        """Window ``window`` running bash in a fresh project folder with a fresh ``HOME``; ``prepare(home,
        project)`` writes the CLI's config; then ``command`` is typed into the shell."""
        project = self.root / f"proj-{window.lower()}"
        project.mkdir(parents=True, exist_ok=True)
        home = self.root / f"home-{window.lower()}"
        for sub in (".config", ".cache", ".local/share", ".local/state"):
            (home / sub).mkdir(parents=True, exist_ok=True)
        if prepare is not None:
            prepare(home, project)
        full_env = {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_STATE_HOME": str(home / ".local" / "state"),
            "PATH": ":".join([*(str(p) for p in path), "/usr/local/bin", "/usr/bin", "/bin"]),
            "PS1": PS1,
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
            **env,
        }
        pane = self.box.new_pane(self.session, window, project, full_env)
        pane.run(command)
        return CliAgent(pane, time.time(), project, home, is_agent)
