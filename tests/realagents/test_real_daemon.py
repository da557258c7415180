"""The whole product against the real CLIs: tmux-orcd watches a private tmux server of real agents and
names each state over D-Bus (ListAgents / GetAgent through busctl, like a user would).

The scenario drivers of ``claude.py`` / ``codex.py`` are generators that pause at each shot, so the agent
holds that state while the daemon is asked. Each lab gets its own daemon on the run's private session
bus, with a short stuck threshold so the stalled stream and the stopped program turn stuck quickly.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness.bus import PrivateBus
from tests.realagents import claude, codex
from tests.realagents.daemon_watch import DAEMON_TOOLS, STUCK_AFTER, Seen, run_daemon
from tests.realagents.harness import require_daemon_and
from tmux_orc.model import State

pytestmark = pytest.mark.realagent

# Two shots in a row may share a state (the 529 error, then the 500 one): then the detail tells them apart.
CLAUDE_HINTS = {"429": "429", "529": "529", "500": "500", "529-retrying": "retrying"}


@pytest.fixture(scope="module")
def claude_daemon(tmp_path_factory: pytest.TempPathFactory, session_bus: PrivateBus) -> Iterator[dict[str, Seen]]:
    require_daemon_and(claude.claude_bin(2), f"Claude Code {claude.claude_version(2)}", DAEMON_TOOLS)
    root = tmp_path_factory.mktemp("daemon-claude")
    with claude.ClaudeLab(root / "lab") as lab:
        seen = run_daemon(session_bus, lab.box, lab.session, root, [
            lambda: claude.main_flow(lab),
            lambda: claude.retry_and_stop(lab),
            lambda: [claude.stalled_stream(lab, seconds=1.0)],
            lambda: [claude.silent_tool(lab, seconds=STUCK_AFTER + 1.5)],
        ], CLAUDE_HINTS)
    yield seen  # the lab is gone: no agent left running during other modules


@pytest.fixture(scope="module")
def codex_daemon(tmp_path_factory: pytest.TempPathFactory, session_bus: PrivateBus) -> Iterator[dict[str, Seen]]:
    require_daemon_and(codex.codex_bin(), f"Codex CLI {codex.CODEX}", DAEMON_TOOLS)
    root = tmp_path_factory.mktemp("daemon-codex")
    with codex.CodexLab(root / "lab") as lab:
        # Codex's "thinking" screen is a clock and nothing else: a short stuck threshold would call it stuck.
        seen = run_daemon(session_bus, lab.box, lab.session, root,
                          [lambda: codex.main_flow(lab), lambda: codex.stopped_stream(lab)], stuck_after=30)
    yield seen


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
