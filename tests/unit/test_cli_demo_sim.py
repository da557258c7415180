"""The demo's simulated agent: its screens look like Claude Code 2.x and its script moves through states."""

from __future__ import annotations

import math

import pytest

from tmux_orc.demo.agent_sim import AgentSim
from tmux_orc.demo.screens import PROMPT, SimScreen, render
from tmux_orc.demo.scripts import ACTIONS, SCRIPTS, TEAM_ROLES, Step, team


def bottom(screen: SimScreen, width: int = 100, height: int = 40) -> list[str]:
    return [line for line in render(screen, width, height) if line.strip()][-6:]


def test_idle_screen_has_prompt_between_rules_and_mode_footer() -> None:
    lines = bottom(SimScreen())
    assert lines[-4] == "─" * 100
    assert lines[-3] == "❯\u00a0"  # a no-break space after the prompt glyph
    assert lines[-2] == "─" * 100
    assert lines[-1] == "  ⏵⏵ auto mode on (shift+tab to cycle)"


def test_working_screen_has_spinner_and_esc_to_interrupt() -> None:
    screen = SimScreen(phase="working", spinner_verb="Forming", working_seconds=5, tokens=2, frame=4)
    lines = bottom(screen)
    assert "✻ Forming… (5s · ↓ 2 tokens)" in lines
    assert lines[-1] == "  esc to interrupt"


def test_permission_dialog() -> None:
    screen = SimScreen(phase="permission", permission_command="npm test", permission_reason="Run tests")
    text = "\n".join(render(screen, 100, 40))
    assert "Do you want to proceed?" in text
    assert " ❯ 1. Yes" in text
    assert text.rstrip().endswith("Esc to cancel · Tab to amend")


def test_unsubmitted_text_sits_in_the_prompt() -> None:
    assert PROMPT + "say hello" in bottom(SimScreen(draft="say hello"))


@pytest.mark.parametrize(("width", "height"), [(20, 8), (60, 15), (200, 60), (1, 1)])
def test_frames_fit_the_terminal(width: int, height: int) -> None:
    screen = SimScreen(transcript=[f"● line {n} " + "x" * 300 for n in range(100)], phase="working")
    lines = render(screen, width, height)
    assert len(lines) <= max(5, height)
    assert all(len(line) <= max(10, width) for line in lines)
    assert lines[-1] == "  esc to interrupt"[: max(10, width) - 1] + "…" or lines[-1] == "  esc to interrupt"


def test_scripts_use_known_actions_and_every_role_has_one() -> None:
    for name, steps in SCRIPTS.items():
        assert steps, name
        for step in steps:
            assert step.action in ACTIONS, (name, step)
    assert set(TEAM_ROLES) <= set(SCRIPTS)


def test_team_names_follow_the_window_convention() -> None:
    assert team(3) == [("Claude-pm", "pm"), ("Claude-developer", "developer"), ("Claude-qa", "qa")]
    names = [window for window, _ in team(8)]
    assert names[6:] == ["Claude-pm-2", "Claude-developer-2"]
    assert len(set(names)) == 8


def play(sim: AgentSim, start: float, until: float, step: float = 0.5) -> list[str]:
    """Tick the simulator and record the phase after each tick."""
    phases = []
    now = start
    while now < until and sim.exit_code is None:
        now += step
        sim.tick(now)
        phases.append(sim.screen.phase)
    return phases


def test_script_goes_through_work_permission_and_idle() -> None:
    sim = AgentSim(SCRIPTS["developer"], now=0.0)
    phases = play(sim, 0.0, 60.0)
    assert {"working", "permission", "idle"} <= set(phases)
    assert any(line.startswith("✻ Churned for") for line in sim.screen.transcript)
    assert "● Bash(npm test -- login)" in sim.screen.transcript


def test_typed_prompt_becomes_the_next_turn() -> None:
    sim = AgentSim([Step("type", 2, "hello there"), Step("hold", 3), Step("work", 2, "Forming", ("hi",))], now=0)
    sim.tick(1.0)
    assert sim.screen.draft == "hello"
    sim.tick(2.5)
    assert sim.screen.draft == "hello there"
    sim.tick(5.5)
    assert sim.screen.phase == "working"
    assert sim.screen.draft == ""
    assert "> hello there" in sim.screen.transcript


def test_crash_ends_the_program_with_status_1() -> None:
    sim = AgentSim(SCRIPTS["qa"], now=0.0)
    play(sim, 0.0, 120.0)
    assert sim.exit_code == 1
    assert "simulated crash" in sim.crash_message


def test_rate_limit_shows_the_api_error() -> None:
    sim = AgentSim([Step("rate_limit", 10, "Rate limit reached")], now=0.0)
    assert sim.screen.transcript[-2] == "● API Error: Request rejected (429) · Rate limit reached"


def test_keys_drive_the_agent() -> None:
    sim = AgentSim([Step("idle", math.inf)], now=0.0)
    sim.press(b"fix it", 1.0)
    assert sim.screen.draft == "fix it" and sim.manual
    sim.press(b"\r", 2.0)
    assert sim.screen.phase == "working"
    sim.press(b"\x1b", 3.0)  # Esc interrupts
    assert sim.screen.phase == "idle"
    assert "  ⎿  Interrupted · What should Claude do instead?" in sim.screen.transcript


def test_permission_answered_from_the_keyboard() -> None:
    sim = AgentSim([Step("ask", 30, "rm -rf build", ("Clean", "removed"))], now=0.0)
    assert sim.screen.phase == "permission"
    sim.press(b"1", 1.0)
    assert sim.screen.phase == "working"
    assert "● Bash(rm -rf build)" in sim.screen.transcript


def test_ctrl_c_twice_exits() -> None:
    sim = AgentSim([Step("idle", math.inf)], now=0.0)
    sim.interrupt(1.0)
    assert sim.screen.phase == "exit_hint" and sim.exit_code is None
    sim.tick(4.0)  # the hint times out
    assert sim.screen.phase == "idle"
    sim.interrupt(5.0)
    sim.interrupt(5.5)
    assert sim.exit_code == 0


def test_script_resumes_after_a_key_driven_turn() -> None:
    # e.g. the monitor typed a notification into the PM's prompt and pressed Enter
    sim = AgentSim([Step("idle", 5), Step("work", 5, "Forming", ("done",))], now=0.0)
    sim.press(b"qa crashed\r", 1.0)
    assert sim.screen.phase == "working" and "> qa crashed" in sim.screen.transcript
    phases = play(sim, 1.0, 40.0)
    assert phases.index("idle") < len(phases) - 1
    assert not sim.manual
    assert sim.step.action in {"idle", "work"}  # back on the script
