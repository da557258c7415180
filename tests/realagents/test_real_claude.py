"""The detection engine against the real Claude Code CLI (2.x native binary and 1.x cli.js), live.

Each scenario drives the real program into one state through the fake API; the test classifies the
screen captured at that moment with the process facts read from /proc at that moment.
"""

from __future__ import annotations

import pytest

from tests.realagents.shots import Shot, assert_labelled, classify_shot, explain
from tmux_orc.model import Kind, State

pytestmark = pytest.mark.realagent

CLAUDE2_SCENARIOS = [
    "trust-dialog",
    "fresh-prompt",
    "typed",
    "streaming",
    "interrupted",
    "after-turn",
    "permission",
    "429",
    "529",
    "500",
    "killed",
    "529-retrying",
    "sigstop",
    "onboarding-theme",
    "trust-declined",
    "unable-to-connect",
]
CLAUDE1_SCENARIOS = ["fresh-prompt", "typed", "streaming", "permission", "429", "killed"]


@pytest.mark.parametrize("scenario", CLAUDE2_SCENARIOS)
def test_claude2_state(claude2_shots: dict[str, Shot], scenario: str) -> None:
    assert_labelled(claude2_shots[scenario])


@pytest.mark.parametrize("scenario", CLAUDE1_SCENARIOS)
def test_claude1_state(claude1_shots: dict[str, Shot], scenario: str) -> None:
    assert_labelled(claude1_shots[scenario])


def test_claude2_process_facts(claude2_shots: dict[str, Shot]) -> None:
    """Kind and liveness come from the process tree under the shell, never from the screen."""
    for name in ("fresh-prompt", "streaming", "permission", "429"):
        facts = claude2_shots[name].facts
        assert facts is not None and facts.kind == Kind.CLAUDE and facts.agent_alive, (name, facts)
        assert claude2_shots[name].pane.current_command == "claude"
    stopped = claude2_shots["sigstop"].facts
    assert stopped is not None and stopped.stopped, stopped
    for name in ("killed", "trust-declined", "unable-to-connect"):
        facts = claude2_shots[name].facts
        assert facts is not None and not facts.agent_alive and facts.shell_in_foreground, (name, facts)


def test_claude2_killed_keeps_stale_title(claude2_shots: dict[str, Shot]) -> None:
    """After SIGKILL the pane title still says Claude Code: the title alone must not prove the agent alive."""
    if "Claude" not in claude2_shots["fresh-prompt"].pane.title:
        pytest.skip(f"this release sets no pane title ({claude2_shots['fresh-prompt'].pane.title!r})")
    assert "Claude Code" in claude2_shots["killed"].pane.title


def test_claude2_stalled_stream_becomes_stuck(claude2_shots: dict[str, Shot]) -> None:
    """A stream that stops sending keeps the spinner's clock ticking; past the threshold it is stuck."""
    shot = claude2_shots["stalled-stream"]
    first = shot.history[0].at
    obs = classify_shot(shot, stuck_after=max(1.0, (shot.at - first) - 1.0))
    assert obs.verdict.state is State.STUCK, explain(shot, obs)


def test_claude2_silent_tool_is_working_by_its_cpu(claude2_shots: dict[str, Shot]) -> None:
    """A Bash tool computing without output freezes the screen like a stalled stream (clock only);
    the CPU time of the tool under claude is what keeps it working, and the screen alone would not."""
    shot = claude2_shots["silent-tool"]
    blind = classify_shot(shot, stuck_after=1e9, tool_cpu=False)
    frozen_for = shot.at - blind.unchanged_since
    assert frozen_for >= 2.0, f"the screen changed during the tool run ({frozen_for:.1f}s frozen)"
    threshold = frozen_for - 0.5
    blind = classify_shot(shot, stuck_after=threshold, tool_cpu=False)
    assert blind.verdict.state is State.STUCK, explain(shot, blind)
    obs = classify_shot(shot, stuck_after=threshold)
    assert obs.verdict.state is State.WORKING, explain(shot, obs)
    facts = [look.facts for look in shot.history]
    assert all(f is not None and "python3" in f.commands for f in facts), facts
    used = [f.tool_cpu_seconds for f in facts if f is not None and f.tool_cpu_seconds is not None]
    assert used[-1] - used[0] >= 0.2 * (shot.history[-1].at - shot.history[0].at), used  # a loaded CI shares
