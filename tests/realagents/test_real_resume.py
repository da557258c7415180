"""Recovery of a crashed PM with each CLI's own resume command, proven on the real CLIs.

A real Claude Code 2.x (and a real Codex CLI) PM runs in a private tmux server against its fake model
server on loopback, started from an interactive shell the way a user starts it, and does one turn so
there is a conversation to continue. The real daemon watches on the contract's recovery settings with
short timings and no ``pm_spawn_command``. The test SIGKILLs the CLI and checks that the daemon says
crashed, that the new window runs the CLI's own resume command (``claude --continue``, ``codex resume
--last``: read from the new process's argv in /proc), that the resumed CLI is back with the earlier
conversation, that ``RecoveryFinished`` reports success, and that the crashed pane is gone.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.harness.bus import PrivateBus, wait_until
from tests.harness.daemon import DaemonProcess
from tests.harness.signals import SignalRecorder
from tests.realagents import claude, codex
from tests.realagents import fake_anthropic as fa
from tests.realagents.cli_lab import argv_of
from tests.realagents.harness import (
    Pane,
    ScreenTimeout,
    TmuxBox,
    daemon_agent,
    descendants,
    open_shell_session,
    process_names,
    require_daemon_and,
)

pytestmark = pytest.mark.realagent

# The contract's recovery policy (auto_recover_pm on, no pm_spawn_command), only faster.
SETTINGS: dict[str, Any] = {
    "interval": 0.3,
    "recovery_confirmations": 2,
    "recovery_grace": 5,
    "desktop_notifications": "false",
}
WAIT = 60.0  # bound on each wait below: two cores shared by several people; a real CLI starts in seconds
REPLY = "The secret word is pelican."
# What the panes were started with that only the terminal matters for, not the CLI.
_PANE_ONLY = ("PS1", "TERM")


def _export_to_server(box: TmuxBox, env: Mapping[str, str]) -> None:
    """Put what the CLI needs (HOME, its API's URL and key...) in the tmux server's global environment.

    Recovery opens the new window with tmux ``new-window``, which starts it from the server's global
    environment, not from the crashed pane's: a real user's variables live there too (the server
    inherits them from the shell that started it). PATH is the exception: tmux takes it from the
    client that runs ``new-window``, i.e. from the daemon (see :func:`_daemon`).
    """
    for key, value in env.items():
        if key not in _PANE_ONLY:
            box.tmux("set-environment", "-g", key, value)


def _first_turn(agent: claude.ClaudeAgent | codex.CodexAgent, fake: fa.FakeAnthropic) -> None:
    """One turn answered with :data:`REPLY`: the conversation a resume must bring back. Under load a TUI
    can drop the Enter typed right after the text; it is sent again only while no turn reached the fake."""
    fake.push(fa.Text(REPLY))
    turns = len(fake.turns())
    agent.send("tell me the secret word")
    for _ in range(3):
        try:
            agent.pane.wait_text(REPLY, timeout=20)
            return
        except ScreenTimeout:
            if len(fake.turns()) > turns:
                raise
            agent.pane.keys("Enter")
    agent.pane.wait_text(REPLY, timeout=WAIT)


def _daemon(bus: PrivateBus, box: TmuxBox, root: Path, path: str, **extra: Any) -> DaemonProcess:
    daemon = DaemonProcess(bus.address, box.socket, root, **{**SETTINGS, **extra})
    # tmux gives a new window the PATH of the client that asked for it (the daemon), so the daemon must
    # find the CLI on its PATH: as a user's service must (systemd's user PATH, environment.d).
    daemon.env["PATH"] = path
    return daemon.start()


def _pane_ids(box: TmuxBox) -> set[str]:
    return set(box.tmux("list-panes", "-a", "-F", "#{pane_id}").split())


def _window_panes(box: TmuxBox, session: str, window: str) -> list[str]:
    out = box.tmux("list-panes", "-s", "-t", f"={session}", "-F", "#{pane_id}\t#{window_name}")
    return [line.split("\t")[0] for line in out.splitlines() if line.split("\t")[-1] == window]


@dataclass(frozen=True)
class Recovered:
    """What the daemon did about the crash, as seen over D-Bus, in /proc and in the private tmux server
    (all gathered before the lab and its daemon are stopped: two daemons cannot share one bus name)."""

    crashed: list[Any]  # the AgentStateChanged signal to crashed
    finished: list[Any]  # the RecoveryFinished signal
    agent_argv: list[str]  # argv of the CLI process under the new pane
    old_pane_gone: bool
    resumed_screen: str  # the new pane once the resumed CLI shows the earlier reply (or the last look)
    resumed_agent: dict[str, Any]  # GetAgent of the new pane once idle (or the last look)


def _crash_and_recover(daemon: DaemonProcess, pane: Pane, session: str, window: str, kill: Callable[[], Any],
                       names: tuple[str, ...], argv_has: tuple[str, ...]) -> Recovered:
    """Kill the PM's CLI (``kill()``), then follow the daemon's recovery to the CLI running again."""
    box = pane.box
    pm = daemon.wait_state(pane.pane_id, "idle", timeout=WAIT)
    assert pm["role"] == "pm", pm
    target = pm["target"]
    with SignalRecorder(daemon.address) as signals:
        kill()
        crashed = signals.wait_for("AgentStateChanged", lambda b: b[1] == target and b[3] == "crashed",
                                   timeout=WAIT)
        finished = signals.wait_for("RecoveryFinished", lambda b: b[1] == target, timeout=WAIT + 60)
    new_ids = [p for p in _window_panes(box, session, window) if p != pane.pane_id]
    panes = box.tmux("list-panes", "-a", "-F", "#{pane_id} #{window_name}")
    assert len(new_ids) == 1, f"RecoveryFinished{tuple(finished)}; new panes {new_ids}; all panes:\n{panes}"
    new_pane = Pane(box, new_ids[0])

    def cli_argv() -> list[str] | None:
        for pid in descendants(new_pane.pane_pid()):
            args = argv_of(pid)
            if process_names(pid) & set(names) and all(a in args for a in argv_has):
                return args
        return None

    found = wait_until(cli_argv, timeout=WAIT, what=f"{' '.join(argv_has)} under {new_pane.pane_id}")
    gone = wait_until(lambda: pane.pane_id not in _pane_ids(box), timeout=WAIT, what="the crashed pane closed")
    try:
        screen = new_pane.wait_text(REPLY, timeout=WAIT)
    except ScreenTimeout as exc:
        screen = exc.screen
    try:
        resumed = daemon.wait_state(new_pane.pane_id, "idle", timeout=WAIT)
    except AssertionError:
        resumed = daemon_agent(daemon, new_pane.pane_id)
    return Recovered(crashed, finished, found, gone, screen, resumed)


def recover_claude(bus: PrivateBus, root: Path, daemon_path: str | None = None, **extra: Any) -> Recovered:
    """A Claude Code PM with one turn behind it, killed and recovered; the daemon finds programs on
    ``daemon_path`` (default: the PATH the pane had, which holds the CLI)."""
    with claude.ClaudeLab(root / "lab") as lab:
        open_shell_session(lab.box, lab.session)
        agent = lab.launch("Claude-pm")  # bash in the pane, `claude` typed into it
        agent.wait_ready(timeout=WAIT)
        _export_to_server(lab.box, agent.env)
        _first_turn(agent, lab.fake)
        agent.wait_ready(timeout=WAIT)
        daemon = _daemon(bus, lab.box, root, daemon_path or agent.env["PATH"], **extra)
        try:
            return _crash_and_recover(
                daemon, agent.pane, lab.session, "Claude-pm",
                lambda: agent.pane.signal_agent(claude.NAMES, signal.SIGKILL), claude.NAMES, ("--continue",))
        finally:
            daemon.stop()


@pytest.fixture(scope="module")
def claude_recovery(tmp_path_factory: pytest.TempPathFactory, session_bus: PrivateBus) -> Recovered:
    require_daemon_and(claude.claude_bin(2), f"Claude Code {claude.claude_version(2)}")
    return recover_claude(session_bus, tmp_path_factory.mktemp("resume-claude"))


@pytest.fixture(scope="module")
def codex_recovery(tmp_path_factory: pytest.TempPathFactory, session_bus: PrivateBus) -> Recovered:
    require_daemon_and(codex.codex_bin(), f"Codex CLI {codex.CODEX}")
    root = tmp_path_factory.mktemp("resume-codex")
    with codex.CodexLab(root / "lab") as lab:
        open_shell_session(lab.box, lab.session)
        agent = lab.launch("Codex-pm")
        agent.wait_ready(timeout=WAIT)
        _export_to_server(lab.box, agent.env)
        _first_turn(agent, lab.fake)
        agent.wait_ready(timeout=WAIT)
        # Window names say the role: a Codex user names the PM window in `roles` (the prefix is Claude-).
        daemon = _daemon(session_bus, lab.box, root, agent.env["PATH"], roles=json.dumps({"Codex-pm": "pm"}))

        def kill() -> None:
            pid = agent.tui_pid()
            assert pid is not None, "codex TUI not found under the pane"
            os.kill(pid, signal.SIGKILL)

        try:
            return _crash_and_recover(daemon, agent.pane, lab.session, "Codex-pm", kill, codex.NAMES,
                                      ("resume", "--last"))
        finally:
            daemon.stop()


@pytest.mark.parametrize("which", ["claude", "codex"])
def test_crashed_pm_is_resumed_with_its_own_cli_command(which: str, request: pytest.FixtureRequest) -> None:
    rec: Recovered = request.getfixturevalue(f"{which}_recovery")
    assert rec.crashed[3] == "crashed", rec.crashed
    assert rec.finished[2] is True, rec.finished  # RecoveryFinished(id, target, success, detail)
    assert f"{which} running again" in rec.finished[3], rec.finished
    assert rec.old_pane_gone


def test_claude_resumes_with_continue_and_its_conversation(claude_recovery: Recovered) -> None:
    assert "--continue" in claude_recovery.agent_argv, claude_recovery.agent_argv
    assert REPLY in claude_recovery.resumed_screen, claude_recovery.resumed_screen  # the earlier turn, again


def test_codex_resumes_the_last_session_and_its_conversation(codex_recovery: Recovered) -> None:
    args = codex_recovery.agent_argv
    assert args[args.index("resume") + 1:][:1] == ["--last"], args
    assert REPLY in codex_recovery.resumed_screen, codex_recovery.resumed_screen


@pytest.mark.parametrize("which", ["claude", "codex"])
def test_daemon_sees_the_resumed_pm(which: str, request: pytest.FixtureRequest) -> None:
    agent = request.getfixturevalue(f"{which}_recovery").resumed_agent
    assert agent.get("state") == "idle" and agent["role"] == "pm" and agent["kind"] == which, agent


def test_resume_finds_the_cli_on_the_users_path(tmp_path: Path, session_bus: PrivateBus) -> None:
    """The user's PATH (the tmux server's global environment) holds the CLI; the service's does not."""
    require_daemon_and(claude.claude_bin(2), f"Claude Code {claude.claude_version(2)}")
    rec = recover_claude(session_bus, tmp_path, f"{Path(shutil.which('tmux') or '/usr/bin/tmux').parent}:/usr/bin:/bin",
                         starting_after=15)
    assert rec.finished[2] is True, rec.finished
