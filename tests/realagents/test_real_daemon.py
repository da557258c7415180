"""The whole product against the real CLIs: tmux-orcd watches a private tmux server of real agents and
names each state over D-Bus (ListAgents / GetAgent through busctl, like a user would).

The scenario drivers of ``claude.py`` / ``codex.py`` are generators that pause at each shot, so the agent
holds that state while the daemon is asked. Each lab gets its own daemon on the run's private session
bus, with a short stuck threshold so the stalled stream and the stopped program turn stuck quickly.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.harness.bus import PrivateBus, wait_until
from tests.harness.daemon import DaemonProcess
from tests.realagents import claude, codex
from tests.realagents.harness import daemon_agent, open_shell_session, require_daemon_and
from tests.realagents.shots import Shot, classify_shot, explain
from tmux_orc.model import State

pytestmark = pytest.mark.realagent

STUCK_AFTER = 4.0  # seconds a working screen may stay unchanged (the contract's default is 300)
WAIT = 15.0  # bound on every wait for the daemon to name a state
DAEMON_TOOLS = ("tmux", "dbus-daemon", "busctl")
DAEMON_SETTINGS: dict[str, Any] = {
    "interval": 0.3,
    "stuck_after": STUCK_AFTER,
    "notify_pm": "false",
    "auto_recover_pm": "false",
}


@dataclass(frozen=True)
class Seen:
    """What the daemon said over D-Bus about one shot's pane while the agent held that state."""

    shot: Shot
    agent: dict[str, Any]  # GetAgent's dict (or the last ListAgents entry on a timeout)
    problem: str = ""  # why the expected state was not seen ("" when it was)
    waited: float = 0.0  # seconds until the daemon named it
    first_state: str = ""  # what the daemon said the moment the shot was taken, before any waiting
    first_explain: dict[str, Any] | None = None  # and its Explain of the agent then

    def report(self) -> str:
        got = f"{self.agent.get('state')!r} ({self.agent.get('detail')!r})" if self.agent else "no agent"
        head = f"{self.shot.scenario}: daemon said {got} after {self.waited:.1f}s; {self.problem}"
        return f"{head}\n{explain(self.shot, classify_shot(self.shot))}"


def _explain(daemon: DaemonProcess, pane_id: str) -> dict[str, Any] | None:
    try:
        return daemon.call("Explain", "s", pane_id)[0]  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001 - the agent vanished between the two calls (any bus error)
        return None


# Two shots in a row may share a state (the 529 error, then the 500 one): then the detail tells them apart.
CLAUDE_HINTS = {"429": "429", "529": "529", "500": "500", "529-retrying": "retrying"}


def watch(daemon: DaemonProcess, shots: Iterable[Shot], hints: dict[str, str] | None = None) -> Iterator[Seen]:
    """For each shot (the agent paused in that state), wait until the daemon names the shot's label
    (and says the shot's own words in its detail, where two shots in a row share a state)."""
    for shot in shots:
        pane_id, began = shot.pane.pane_id, time.monotonic()
        hint = (hints or {}).get(shot.scenario, "")
        first = daemon_agent(daemon, pane_id).get("state", "")
        first_explain = _explain(daemon, pane_id) if first else None

        def named(pane_id: str = pane_id, state: str = shot.label.value, hint: str = hint) -> bool:
            agent = daemon_agent(daemon, pane_id)
            return bool(agent) and agent["state"] == state and hint in agent["detail"]

        try:
            wait_until(named, timeout=WAIT, interval=0.2, what=f"{pane_id} in state {shot.label.value}")
            yield Seen(shot, daemon.agent(pane_id), "", time.monotonic() - began, first, first_explain)
        except AssertionError as exc:
            problem = f"{exc}".splitlines()[0]
            yield Seen(shot, daemon_agent(daemon, pane_id), problem, time.monotonic() - began, first, first_explain)


@pytest.fixture(scope="module")
def claude_daemon(tmp_path_factory: pytest.TempPathFactory, session_bus: PrivateBus) -> Iterator[dict[str, Seen]]:
    require_daemon_and(claude.claude_bin(2), f"Claude Code {claude.claude_version(2)}", DAEMON_TOOLS)
    root = tmp_path_factory.mktemp("daemon-claude")
    with claude.ClaudeLab(root / "lab") as lab:
        open_shell_session(lab.box, lab.session)
        daemon = DaemonProcess(session_bus.address, lab.box.socket, root, **DAEMON_SETTINGS).start()
        try:
            seen = [
                *watch(daemon, claude.main_flow(lab), CLAUDE_HINTS),
                *watch(daemon, claude.retry_and_stop(lab), CLAUDE_HINTS),
                *watch(daemon, [claude.stalled_stream(lab, seconds=1.0)]),
                *watch(daemon, [claude.silent_tool(lab, seconds=STUCK_AFTER + 1.5)]),
            ]
        finally:
            daemon.stop()
    yield {s.shot.scenario: s for s in seen}  # the lab is gone: no agent left running during other modules


@pytest.fixture(scope="module")
def codex_daemon(tmp_path_factory: pytest.TempPathFactory, session_bus: PrivateBus) -> Iterator[dict[str, Seen]]:
    require_daemon_and(codex.codex_bin(), f"Codex CLI {codex.CODEX}", DAEMON_TOOLS)
    root = tmp_path_factory.mktemp("daemon-codex")
    with codex.CodexLab(root / "lab") as lab:
        open_shell_session(lab.box, lab.session)
        # Codex's "thinking" screen is a clock and nothing else: a short stuck threshold would call it stuck.
        daemon = DaemonProcess(session_bus.address, lab.box.socket, root, **{**DAEMON_SETTINGS, "stuck_after": 30})
        daemon.start()
        try:
            seen = [*watch(daemon, codex.main_flow(lab)), *watch(daemon, codex.stopped_stream(lab))]
        finally:
            daemon.stop()
    yield {s.shot.scenario: s for s in seen}


CLAUDE_STATES = {
    "trust-dialog": State.WAITING_INPUT,
    "fresh-prompt": State.IDLE,
    "typed": State.UNSUBMITTED,
    "streaming": State.WORKING,
    "interrupted": State.IDLE,
    "after-turn": State.IDLE,
    "permission": State.WAITING_INPUT,
    "429": State.RATE_LIMITED,
    "529": State.ERROR,
    "500": State.ERROR,
    "killed": State.CRASHED,
    "529-retrying": State.ERROR,
    "sigstop": State.STUCK,
    "stalled-stream": State.STUCK,
    "silent-tool": State.WORKING,  # frozen past STUCK_AFTER but for its clock: its tool's CPU says working
}
CODEX_STATES = {
    "fresh-prompt": State.IDLE,
    "typed": State.UNSUBMITTED,
    "thinking": State.WORKING,
    "streaming": State.WORKING,
    "interrupted": State.IDLE,
    "after-turn": State.IDLE,
    "approval": State.WAITING_INPUT,
    "429": State.RATE_LIMITED,
    "500": State.ERROR,
    "killed": State.CRASHED,
    "sigstop": State.STUCK,
}


@pytest.mark.parametrize(("scenario", "state"), CLAUDE_STATES.items(), ids=list(CLAUDE_STATES))
def test_daemon_names_claude2_state(claude_daemon: dict[str, Seen], scenario: str, state: State) -> None:
    seen = claude_daemon[scenario]
    assert seen.shot.label is state, "the scenario driver and this table disagree"
    assert not seen.problem and seen.agent["state"] == state.value, seen.report()
    assert seen.agent["kind"] == "claude" and seen.agent["window"].startswith("Claude-"), seen.agent


def test_daemon_silent_tool_is_working_at_once(claude_daemon: dict[str, Seen]) -> None:
    """The tool's screen had been frozen (but for its clock) longer than STUCK_AFTER when the shot was
    taken: the daemon says working right then, from the tool's CPU time, not after the screen moves."""
    seen = claude_daemon["silent-tool"]
    assert seen.first_state == State.WORKING.value, seen.report()
    why = seen.first_explain
    assert why is not None and why["observed_at"] - why["unchanged_since"] >= STUCK_AFTER, why
    assert why["facts"]["tool_cpu_share"] >= 0.1 and "python3" in why["facts"]["commands"], why


def test_daemon_claude_details(claude_daemon: dict[str, Seen]) -> None:
    """The detail a person reads: the API error and attempt, the limit, why it is stuck or crashed."""
    details = {name: seen.agent.get("detail", "") for name, seen in claude_daemon.items()}
    assert "429" in details["429"]
    assert "529" in details["529"] and "500" in details["500"]
    # "API error 529 Overloaded, retrying (attempt 3/10)" (some attempts show only "API error")
    assert details["529-retrying"].startswith("API error") and "retrying (attempt " in details["529-retrying"]
    assert "stopped" in details["sigstop"]
    assert "unchanged" in details["stalled-stream"]
    assert "shell in foreground" in details["killed"]
    assert claude_daemon["permission"].agent["role"] == "developer"


@pytest.mark.parametrize(("scenario", "state"), CODEX_STATES.items(), ids=list(CODEX_STATES))
def test_daemon_names_codex_state(codex_daemon: dict[str, Seen], scenario: str, state: State) -> None:
    seen = codex_daemon[scenario]
    assert seen.shot.label is state, "the scenario driver and this table disagree"
    assert not seen.problem and seen.agent["state"] == state.value, seen.report()
    # No "Claude-" window name: the daemon found Codex by its process tree (the kind stays after a crash).
    assert seen.agent["kind"] in ("codex", "shell"), seen.agent
