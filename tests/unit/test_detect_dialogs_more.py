"""Question and plan-approval dialogs captured from the real Gemini CLI, Qwen Code, opencode and Codex
(``tests/realagents/dialogs.py``): waiting_input, with the question asked as the detail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.detect_helpers import alive, look
from tmux_orc.model import Kind, State

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
DATABASE = "Which database should the service use?"
CASES = [
    ("gemini", Kind.GEMINI, "waiting-real-ask-user.txt", DATABASE),
    ("gemini", Kind.GEMINI, "waiting-real-ask-user-text.txt", "What should the service be called?"),
    ("gemini", Kind.GEMINI, "waiting-real-exit-plan.txt", "Ready to start implementation?"),
    ("gemini-0.30", Kind.GEMINI, "waiting-real-ask-user.txt", DATABASE),
    ("gemini-0.30", Kind.GEMINI, "waiting-real-ask-user-text.txt", "What should the service be called?"),
    ("qwen", Kind.QWEN, "waiting-real-ask-user.txt", DATABASE),
    ("qwen", Kind.QWEN, "waiting-real-exit-plan-qwen.txt", "Would you like to proceed?"),
    ("opencode", Kind.OPENCODE, "waiting-real-question.txt", DATABASE),
    ("codex", Kind.CODEX, "waiting-real-request-user-input.txt", DATABASE),
    ("codex", Kind.CODEX, "waiting-real-implement-plan.txt", "Implement this plan?"),
]


def _title(folder: Path, name: str) -> str:
    titles = folder / "titles.json"
    return str(json.loads(titles.read_text(encoding="utf-8")).get(name, "")) if titles.is_file() else ""


@pytest.mark.parametrize(("folder", "kind", "name", "question"), CASES,
                         ids=[f"{folder}/{name}" for folder, _, name, _ in CASES])
def test_a_dialog_is_waiting_input_with_its_question(folder: str, kind: Kind, name: str, question: str) -> None:
    path = CORPUS / folder / name
    if not path.is_file():
        pytest.skip(f"{path} not captured")
    verdict = look(path.read_text(encoding="utf-8"), alive(kind), title=_title(path.parent, name)).verdict
    assert verdict.state is State.WAITING_INPUT, verdict
    assert verdict.detail == question, verdict


@pytest.mark.parametrize("folder", ["gemini", "qwen"])
def test_a_free_text_question_without_its_title_is_still_waiting_input(folder: str) -> None:
    """Gemini CLI's `Answer Questions` box holds a `> ` answer line, drawn like its prompt: the dialog's
    key hints (`Enter to submit · Esc to cancel`) say it is a dialog, whatever the pane title says."""
    path = CORPUS / "gemini" / "waiting-real-ask-user-text.txt"
    verdict = look(path.read_text(encoding="utf-8"), alive(Kind.GEMINI if folder == "gemini" else Kind.QWEN)).verdict
    assert verdict.state is State.WAITING_INPUT, verdict
    assert verdict.detail == "What should the service be called?", verdict
