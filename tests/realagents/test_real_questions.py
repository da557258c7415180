"""A real Claude Code question (the ``AskUserQuestion`` tool) is waiting_input with the question as detail.

The fake API answers the turn with a ``tool_use`` of ``AskUserQuestion``; the real CLI (pinned 2.x and
2.0.76) draws ``☐ Database``, the question, numbered options and ``Enter to select``. The detection
engine (live, on that screen and the process facts of that moment) and the real daemon over D-Bus must
both say waiting_input with the question itself as the detail, not the header or the first option.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.harness.bus import PrivateBus
from tests.harness.daemon import DaemonProcess
from tests.realagents import claude
from tests.realagents import fake_anthropic as fa
from tests.realagents.harness import HEIGHT, WIDTH, daemon_agent, require_daemon_and
from tests.realagents.shots import Shot, classify_shot, explain
from tmux_orc.model import State

pytestmark = pytest.mark.realagent

QUESTION = fa.AskQuestion().question  # "Which database should the service use?"
RELEASES = {"2.1": None, "2.0": claude.CLAUDE_20_PREFIX}  # release -> npm prefix (None: the pinned 2.x)
WAIT = 30.0


def _daemon_says(daemon: DaemonProcess, pane_id: str) -> dict[str, Any]:
    """GetAgent once the daemon names the question (or its last word on the pane after WAIT seconds)."""
    deadline, agent = time.monotonic() + WAIT, {}
    while time.monotonic() < deadline:
        agent = daemon_agent(daemon, pane_id)
        if agent.get("state") == State.WAITING_INPUT.value and agent.get("detail") == QUESTION:
            break
        time.sleep(0.2)
    return agent


@pytest.fixture(scope="module", params=list(RELEASES))
def question(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, session_bus: PrivateBus
) -> Iterator[tuple[Shot, dict[str, Any]]]:
    """The question screen of one release, and what the daemon said about it while it was up."""
    prefix = RELEASES[request.param] or claude.claude_prefix(2)
    require_daemon_and(claude.prefix_bin(prefix), f"Claude Code {request.param}")
    root = tmp_path_factory.mktemp("questions")
    with claude.ClaudeLab(root / "lab", prefix=prefix) as lab:
        lab.box.tmux("new-session", "-d", "-s", lab.session, "-n", "shell", "-x", str(WIDTH), "-y", str(HEIGHT),
                     "bash", "--noprofile", "--norc", "-i")
        daemon = DaemonProcess(session_bus.address, lab.box.socket, root, interval=0.3, notify_pm="false",
                               auto_recover_pm="false").start()
        try:
            shot = claude.ask_question(lab)
            seen = _daemon_says(daemon, shot.pane.pane_id)
        finally:
            daemon.stop()
    yield shot, seen


def test_question_is_waiting_input_with_the_question(question: tuple[Shot, dict[str, Any]]) -> None:
    shot, _ = question
    verdict = classify_shot(shot).verdict
    assert verdict.state is State.WAITING_INPUT, explain(shot, classify_shot(shot))
    assert verdict.detail == QUESTION, explain(shot, classify_shot(shot))


def test_daemon_names_the_question_over_dbus(question: tuple[Shot, dict[str, Any]]) -> None:
    shot, agent = question
    assert agent.get("state") == State.WAITING_INPUT.value and agent.get("detail") == QUESTION, (
        f"daemon said {agent.get('state')!r} ({agent.get('detail')!r})\n{explain(shot, classify_shot(shot))}"
    )
    assert agent["kind"] == "claude", agent
