"""Question and plan-approval dialogs of the real Gemini CLI, Qwen Code, opencode and Codex are waiting_input with
the question as the detail (the flows of ``dialogs.py``, live: the screen and process facts of that moment).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.realagents import codex, dialogs, gemini, opencode, qwen
from tests.realagents.harness import require_daemon_and
from tests.realagents.shots import Shot, classify_shot, explain
from tmux_orc.model import State

pytestmark = pytest.mark.realagent

BINARIES: dict[str, Callable[[], Path]] = {
    "gemini": gemini.gemini_bin,
    "gemini-0.30": lambda: gemini.gemini_bin(gemini.GEMINI_OLD),
    "qwen": qwen.qwen_bin,
    "opencode": opencode.opencode_bin,
    "codex": codex.codex_bin,
}


@pytest.fixture(scope="module", params=list(dialogs.CAPTURES))
def shots(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Shot]]:
    """Every dialog of one CLI release, captured live."""
    require_daemon_and(BINARIES[request.param](), request.param, tools=("tmux",))
    _, make_lab, flow = dialogs.CAPTURES[request.param]
    yield dialogs._run(make_lab(tmp_path_factory.mktemp(f"dialogs-{request.param}")), flow)


def test_every_dialog_is_waiting_input_with_its_question(shots: list[Shot]) -> None:
    assert shots
    seen: list[tuple[str, Any]] = []
    for shot in shots:
        verdict = classify_shot(shot).verdict
        seen.append((shot.scenario, verdict))
        assert verdict.state is State.WAITING_INPUT, explain(shot, classify_shot(shot))
        assert verdict.detail == dialogs.QUESTIONS[shot.scenario], explain(shot, classify_shot(shot))
    print("\n" + "\n".join(f"{scenario}: {verdict.rule} -> {verdict.detail!r}" for scenario, verdict in seen))
