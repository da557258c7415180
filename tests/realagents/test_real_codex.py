"""The detection engine against the real Codex CLI (``@openai/codex``) and a fake Responses API, live."""

from __future__ import annotations

import pytest

from tests.realagents.codex import title_busy
from tests.realagents.shots import Shot, assert_labelled
from tmux_orc.model import Kind

pytestmark = pytest.mark.realagent

CODEX_SCENARIOS = [
    "fresh-prompt",
    "typed",
    "thinking",
    "streaming",
    "interrupted",
    "after-turn",
    "approval",
    "429",
    "500",
    "killed",
]


@pytest.mark.parametrize("scenario", CODEX_SCENARIOS)
def test_codex_state(codex_shots: dict[str, Shot], scenario: str) -> None:
    assert_labelled(codex_shots[scenario])


def test_codex_process_facts(codex_shots: dict[str, Shot]) -> None:
    """`codex` is a node launcher over a native binary; the launcher is what the pane runs."""
    for name in ("fresh-prompt", "streaming", "approval"):
        facts = codex_shots[name].facts
        assert facts is not None and facts.kind == Kind.CODEX and facts.agent_alive, (name, facts)
    killed = codex_shots["killed"].facts
    assert killed is not None and not killed.agent_alive, killed


def test_codex_title_carries_busy_and_approval(codex_shots: dict[str, Shot]) -> None:
    assert title_busy(codex_shots["streaming"].pane.title)
    assert not title_busy(codex_shots["after-turn"].pane.title)
    assert "Action Required" in codex_shots["approval"].pane.title
