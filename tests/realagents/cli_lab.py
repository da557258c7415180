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
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from signal import Signals

from tests.realagents.fake_anthropic import FakeAnthropic, SlowStream, Text
from tests.realagents.harness import Pane, TmuxBox, descendants, wait_proc_state
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

    def signal(self, sig: Signals) -> int:
        pid = self.pid()
        if pid is None:
            raise AssertionError(f"agent process not found under {self.pane.pane_id}: {process_tree(self.pane)}")
        os.kill(pid, sig)
        return pid

    def signal_tree(self, sig: Signals) -> list[int]:
        """Send ``sig`` to every process under the pane's shell (a CLI that relaunches itself under a
        launcher freezes or dies whole, as with job control); returns the pids."""
        pids = descendants(self.pane.pane_pid())
        if not pids:
            raise AssertionError(f"no process under {self.pane.pane_id}")
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        return pids

    def signal_all(self, sig: Signals, whole_tree: bool) -> list[int]:
        """``sig`` to every process under the pane (``whole_tree``) or to the agent's main one; the pids."""
        return self.signal_tree(sig) if whole_tree else [self.signal(sig)]

    def kill(self, whole_tree: bool = False) -> None:
        """SIGKILL the agent (every process under the pane with ``whole_tree``) and wait until it is gone."""
        for pid in self.signal_all(signal.SIGKILL, whole_tree):
            wait_proc_state(pid, "", timeout=5)

    def greet(self, fake: FakeAnthropic, reply: str) -> None:
        """One plain turn: ``reply`` queued, `greet me` sent, the reply on screen."""
        fake.push(Text(reply))
        self.send("greet me")
        self.pane.wait_text(reply)

    def send(self, text: str, settle: float = 0.3) -> None:
        self.pane.type(text)
        time.sleep(settle)
        self.pane.keys("Enter")

    def wait_shell(self, timeout: float = 15.0) -> str:
        return self.pane.wait_regex(SHELL_PROMPT, timeout=timeout)


def stopped_flow(
    agent: CliAgent,
    fake: FakeAnthropic,
    wait_ready: Callable[[CliAgent], str],
    wait_busy: Callable[[CliAgent], str] | None,
    whole_tree: bool = True,
    note: str = "bash `[1]+ Stopped` over the frozen TUI",
) -> Iterator[Shot]:
    """The shared SIGSTOP scenario: a long stream started and frozen (every process under the pane with
    ``whole_tree``, else the agent's main one), one ``sigstop`` shot, then killed."""
    pane = agent.pane
    wait_ready(agent)
    fake.push(SlowStream(seconds=60))
    agent.send("stream for a while")
    if wait_busy is not None:
        wait_busy(agent)
    pane.wait_text("tick tick")
    for pid in agent.signal_all(signal.SIGSTOP, whole_tree):
        wait_proc_state(pid, "Tt")
    try:
        yield agent.shot("sigstop", State.STUCK, note, pane.wait_text("Stopped", timeout=10))
    finally:
        agent.signal_all(signal.SIGKILL, whole_tree)
        fake.clear()


def _cwd_of(entry: Path) -> str:
    try:
        return os.readlink(entry / "cwd")
    except OSError:
        return ""


def reap_under(root: Path, cwd_too: bool = True) -> None:
    """Stop every process whose program (or, with ``cwd_too``, working directory) lies under a lab's root
    (ours), by pid, SIGTERM then SIGKILL: some CLIs leave servers behind their TUI."""
    mine: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        argv = argv_of(int(entry.name))
        if (argv and argv[0].startswith(f"{root}/")) or (cwd_too and _cwd_of(entry).startswith(f"{root}/")):
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
        reap_under(self.root)
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
