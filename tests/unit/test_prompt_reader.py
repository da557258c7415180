"""One reader of the prompt: what detection calls an empty prompt, PM delivery treats as empty.

Proven over every labelled real screen in the corpora (the shared Claude Code 1.x corpus and
``tests/corpus/*``), for every kind those corpora hold.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.detect_helpers import alive, look
from tests.unit.test_corpus import PLAIN_CASES, _facts, _title
from tmux_orc.detect.prompt import message_submitted, prompt_is_empty, prompt_text
from tmux_orc.model import Kind, State

CODEX_SKILLS = (
    "• Done.\n\n"
    "› Use /skills to list available skills\n\n"
    "  gpt-5.1-codex-max medium · 100% context left · ~/work\n"
)


@pytest.mark.parametrize(("path", "label", "kind"), PLAIN_CASES)
def test_delivery_reads_the_prompt_as_detection_does(path: Path, label: str, kind: Kind) -> None:
    screen = path.read_text(encoding="utf-8")
    verdict = look(screen, _facts(path, kind, State(label)), title=_title(path)).verdict
    if verdict.state is State.IDLE:
        typed = prompt_text(screen, kind)
        assert prompt_is_empty(screen, kind), f"detector: idle ({verdict.rule}); delivery: {typed!r}"
    if State(label) in (State.UNSUBMITTED, State.WAITING_INPUT, State.CRASHED):
        assert not prompt_is_empty(screen, kind), f"{label}: a message would be pasted over it"


def test_codex_suggestion_in_the_prompt_is_an_empty_prompt() -> None:
    verdict = look(CODEX_SKILLS, alive(Kind.CODEX)).verdict
    assert verdict.state is State.IDLE
    assert prompt_is_empty(CODEX_SKILLS, Kind.CODEX)
    assert not prompt_is_empty(CODEX_SKILLS.replace("Use /skills to list available skills", "fix the tests"),
                               Kind.CODEX)


def test_a_message_left_in_the_prompt_is_not_submitted() -> None:
    sent = CODEX_SKILLS.replace("Use /skills to list available skills", "[tmux-orc] 1 alert for session s")
    assert not message_submitted(CODEX_SKILLS, sent, "[tmux-orc] 1 alert for session s", Kind.CODEX)
    assert message_submitted(sent, CODEX_SKILLS, "[tmux-orc] 1 alert for session s", Kind.CODEX)
