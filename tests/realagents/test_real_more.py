"""The detection engine against the real Gemini CLI, Aider, opencode and Qwen Code, live and offline.

Each CLI's scenarios run once per module (see ``conftest.py``); every state is asserted, and for opencode
and Qwen Code also that the kind is recognised and a live agent never reads crashed. The daemon names
the same states over D-Bus in ``test_real_daemon_more.py``.
"""

from __future__ import annotations

import pytest

from tests.realagents.shots import Shot, assert_labelled, classify_shot
from tmux_orc.model import Kind, State

pytestmark = pytest.mark.realagent

GEMINI = [
    "fresh-prompt",
    "typed",
    "thinking",
    "streaming",
    "interrupted",
    "after-turn",
    "approval",
    "429",
    "429-stopped",
    "400",
    "killed",
    "503-retrying",
    "sigstop",
]
AIDER = [
    "fresh-prompt",
    "typed",
    "thinking",
    "streaming",
    "interrupted",
    "after-turn",
    "approval",
    "429-retrying",
    "429-recovered",
    "500-retrying",
    "500-recovered",
    "400",
    "killed",
    "sigstop",
]
OPENCODE = [
    "fresh-prompt",
    "typed",
    "thinking",
    "streaming",
    "interrupted",
    "after-turn",
    "approval",
    "429",
    "500",
    "400",
    "killed",
    "sigstop",
]
QWEN = [
    "fresh-prompt",
    "typed",
    "thinking",
    "streaming",
    "interrupted",
    "after-turn",
    "approval",
    "429-retrying",
    "500-retrying",
    "400",
    "killed",
    "sigstop",
]


@pytest.mark.parametrize("scenario", GEMINI)
def test_gemini_state(gemini_shots: dict[str, Shot], scenario: str) -> None:
    assert_labelled(gemini_shots[scenario])


@pytest.mark.parametrize("scenario", GEMINI)
def test_gemini_old_state(gemini_old_shots: dict[str, Shot], scenario: str) -> None:
    """0.30.1: the prompt between two rules, no quota dialog; the same rules must hold."""
    assert_labelled(gemini_old_shots[scenario])


def test_gemini_title_carries_state(gemini_shots: dict[str, Shot]) -> None:
    assert "Ready" in gemini_shots["fresh-prompt"].pane.title
    assert "Working" in gemini_shots["streaming"].pane.title
    assert "Action Required" in gemini_shots["approval"].pane.title


@pytest.mark.parametrize("scenario", AIDER)
def test_aider_state(aider_shots: dict[str, Shot], scenario: str) -> None:
    assert_labelled(aider_shots[scenario])


@pytest.mark.parametrize("scenario", OPENCODE)
def test_opencode_state(opencode_shots: dict[str, Shot], scenario: str) -> None:
    assert_labelled(opencode_shots[scenario])


@pytest.mark.parametrize("scenario", QWEN)
def test_qwen_state(qwen_shots: dict[str, Shot], scenario: str) -> None:
    assert_labelled(qwen_shots[scenario])


@pytest.mark.parametrize(("fixture", "kind"), [("opencode_shots", Kind.OPENCODE), ("qwen_shots", Kind.QWEN)])
def test_new_kinds_recognised_and_never_crashed_alive(request: pytest.FixtureRequest, fixture: str, kind: Kind) -> None:
    shots: dict[str, Shot] = request.getfixturevalue(fixture)
    for name, shot in shots.items():
        if shot.label in (State.CRASHED, State.STUCK):
            continue
        assert shot.facts is not None and shot.facts.kind == kind and shot.facts.agent_alive, (name, shot.facts)
        assert classify_shot(shot).verdict.state is not State.CRASHED, name
