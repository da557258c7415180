"""A question is waiting_input with the question itself as the detail, not its first option."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.detect_helpers import alive, look
from tmux_orc.model import Kind, State

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "claude-2x"

RULE = "─" * 80
ASK_USER_QUESTION = f"""● I need to pick a database first.

{RULE}
 ☐ Database

Which database should the service use?

❯ 1. PostgreSQL
     Full SQL, good for concurrency
  2. SQLite
     A file, no server
  3. Type something.

Enter to select · Tab/Arrow keys to navigate · Esc to cancel
"""

PERMISSION = f"""● Bash(rm -rf build)
{RULE}
 Bash command

   rm -rf build
   Remove the build folder

 Do you want to proceed?
 ❯ 1. Yes
   2. Yes, and don't ask again for rm commands in this project
   3. No, and tell Claude what to do differently (esc)
"""


def test_claude_ask_user_question_names_the_question() -> None:
    verdict = look(ASK_USER_QUESTION, alive(Kind.CLAUDE)).verdict
    assert verdict.state is State.WAITING_INPUT
    assert verdict.detail == "Which database should the service use?"


def test_a_permission_dialog_names_what_it_asks() -> None:
    verdict = look(PERMISSION, alive(Kind.CLAUDE)).verdict
    assert verdict.state is State.WAITING_INPUT
    assert verdict.detail == "Do you want to proceed?"


def test_a_menu_without_a_question_names_its_selected_option() -> None:
    screen = ASK_USER_QUESTION.replace("Which database should the service use?", "Databases")
    verdict = look(screen, alive(Kind.CLAUDE)).verdict
    assert verdict.state is State.WAITING_INPUT and verdict.detail == "❯ 1. PostgreSQL"


@pytest.mark.parametrize("capture", ["waiting-real-ask-question.txt", "waiting-real-ask-question-2.0.txt"])
def test_real_ask_user_question_names_the_question(capture: str) -> None:
    """Captured from the real Claude Code (2.1.330: a `4. Chat about this` row under a second rule;
    2.0.76: `Tab/Arrow keys to navigate`): the detail is the question, not `☐ Database` nor an option."""
    verdict = look((CORPUS / capture).read_text(encoding="utf-8"), alive(Kind.CLAUDE), title="✳ Claude Code").verdict
    assert verdict.state is State.WAITING_INPUT
    assert verdict.detail == "Which database should the service use?"
