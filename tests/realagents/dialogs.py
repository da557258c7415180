"""Question and plan-approval dialogs of the real Gemini CLI, Qwen Code, opencode and Codex, called up by
their fakes.

Each CLI has a tool the model calls to ask the user (Gemini CLI ``ask_user``, Qwen Code
``ask_user_question``, opencode ``question``, Codex ``request_user_input`` in its Plan mode) and, for
Gemini CLI and Qwen Code, a plan mode whose ``exit_plan_mode`` call shows the plan and asks to go on
(Codex asks "Implement this plan?" after a reply holding a ``<proposed_plan>`` block). The fake model
server answers the turn with that tool call; the dialog is a :class:`~tests.realagents.shots.Shot`
labelled waiting_input, its ``note`` the question the detector must name as the detail (:data:`QUESTIONS`).

    .venv/bin/python -m tests.realagents.dialogs    # captures them into tests/corpus/<cli>/
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.realagents import codex, gemini, opencode, qwen
from tests.realagents import fake_anthropic as fa
from tests.realagents.cli_lab import CliAgent, CliLab
from tests.realagents.fake_chat import ToolCall
from tests.realagents.shots import Shot
from tmux_orc.model import State

ASK = fa.AskQuestion()  # "Which database should the service use?" with two options
NAME_QUESTION = "What should the service be called?"
PLAN = "1. Create the service skeleton.\n2. Add a health check."
#: scenario -> the question each dialog asks (the detail the detector must give)
QUESTIONS = {
    "ask-user": ASK.question,
    "ask-user-text": NAME_QUESTION,
    "exit-plan": "Ready to start implementation?",  # Gemini CLI
    "exit-plan-qwen": "Would you like to proceed?",  # Qwen Code
    "question": ASK.question,  # opencode
    "request-user-input": ASK.question,  # Codex
    "implement-plan": "Implement this plan?",  # Codex
}


def _options() -> list[dict[str, str]]:
    return [{"label": label, "description": text} for label, text in ASK.options]


def send_turn(agent: CliAgent, lab: CliLab, text: str, tries: int = 5) -> None:
    """Type ``text`` and Enter; press Enter again while no turn reached the fake (a TUI still starting
    may drop the first one)."""
    turns = len(lab.fake.turns())
    agent.send(text)
    for _ in range(tries):
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            if len(lab.fake.turns()) > turns:
                return
            time.sleep(0.2)
        agent.pane.keys("Enter")
    raise AssertionError(f"no turn reached the fake after {tries} Enters:\n{agent.pane.capture()}")


def _shot(agent: CliAgent | codex.CodexAgent, scenario: str, what: str, *needles: str) -> Shot:
    screen = agent.pane.wait_text(*needles, timeout=30)
    time.sleep(1.0)  # let the dialog finish drawing
    return agent.shot(scenario, State.WAITING_INPUT, f"{what}; the question: {QUESTIONS[scenario]}",
                      agent.pane.capture() or screen)


def _gemini_plan_settings(home: Path, project: Path) -> None:
    """The driver's settings plus a plans folder in the project holding the plan exit_plan_mode shows."""
    gemini._settings(home, project)
    path = home / ".gemini" / "settings.json"
    settings: dict[str, Any] = json.loads(path.read_text())
    settings["general"]["plan"] = {"directory": "plans"}
    path.write_text(json.dumps(settings, indent=2))
    (project / "plans").mkdir(exist_ok=True)
    (project / "plans" / "service.md").write_text(f"# Plan\n\n{PLAN}\n")


def gemini_flow(lab: gemini.GeminiLab, plan: bool = True) -> Iterator[Shot]:
    """ask_user with choices, ask_user for free text, then (``plan``) exit_plan_mode in plan mode (0.61:
    0.30's plan mode is experimental and takes its plan from a folder of its own)."""
    agent = lab.start("Gemini-architect")
    gemini.wait_ready(agent)
    question = {"question": ASK.question, "header": ASK.header, "type": "choice", "multiSelect": False,
                "options": _options()}
    lab.fake.push(ToolCall("ask_user", {"questions": [question]}))
    send_turn(agent, lab, "set up the service")
    yield _shot(agent, "ask-user", "`Answer Questions` box: the question, `● 1. PostgreSQL` …",
                ASK.question, "Enter to select")
    agent.pane.keys("Escape")
    gemini.wait_ready(agent)
    lab.fake.clear()

    text = {"question": NAME_QUESTION, "header": "Name", "type": "text", "placeholder": "e.g. billing"}
    lab.fake.push(ToolCall("ask_user", {"questions": [text]}))
    send_turn(agent, lab, "name it")
    yield _shot(agent, "ask-user-text", "`Answer Questions` box with a free-text `> e.g. billing` line",
                NAME_QUESTION, "Enter to submit")
    agent.pane.keys("Escape")
    gemini.wait_ready(agent)
    lab.fake.clear()
    if not plan:
        return

    env = {"GEMINI_API_KEY": "fake-gemini-key", "GOOGLE_GEMINI_BASE_URL": lab.fake.base_url,
           "GEMINI_CLI_NO_RELAUNCH": "1", "NO_BROWSER": "1"}
    planner = lab.launch("Gemini-planner", f"gemini -m {gemini.MODEL} --approval-mode plan", env, [lab.bin_dir],
                         gemini.is_gemini, _gemini_plan_settings)
    gemini.wait_ready(planner)
    lab.fake.push(ToolCall("exit_plan_mode", {"plan_filename": "service.md"}))
    send_turn(planner, lab, "plan the service")
    yield _shot(planner, "exit-plan", "`Ready to start implementation?`, the plan, `● 1. Yes, automatically …`",
                "Ready to start implementation?")
    planner.pane.keys("Escape")
    lab.fake.clear()


def qwen_flow(lab: qwen.QwenLab) -> Iterator[Shot]:
    """ask_user_question, then exit_plan_mode in plan mode (shift+tab until `plan mode`)."""
    agent = lab.start("Qwen-architect")
    qwen.wait_ready(agent)
    lab.fake.push(ToolCall("ask_user_question", ASK.tool_input()))
    send_turn(agent, lab, "set up the service")
    yield _shot(agent, "ask-user", "`? AskUserQuestion`, `Database`, the question, `❯ 1. PostgreSQL` …",
                ASK.question, "Enter: Select")
    agent.pane.keys("Escape")
    lab.fake.clear()
    qwen.wait_ready(agent)

    for _ in range(5):
        if "plan mode" in agent.pane.capture().lower():
            break
        agent.pane.keys("BTab")
        time.sleep(1.0)
    lab.fake.push(ToolCall("exit_plan_mode", {"plan": PLAN}))
    send_turn(agent, lab, "plan the service")
    yield _shot(agent, "exit-plan-qwen", "`? ExitPlanMode Plan:`, the plan, `Would you like to proceed?`, `› 1. Yes …`",
                "Would you like to proceed?")
    agent.pane.keys("Escape")
    lab.fake.clear()


def opencode_flow(lab: opencode.OpencodeLab) -> Iterator[Shot]:
    """The question tool: the question, numbered options, `↑↓ select  enter submit  esc dismiss`."""
    agent = lab.start("Opencode-architect")
    opencode.wait_ready(agent)
    question = {"question": ASK.question, "header": ASK.header, "multiple": False, "options": _options()}
    lab.fake.push(ToolCall("question", {"questions": [question]}))
    send_turn(agent, lab, "set up the service")
    yield _shot(agent, "question", "the question, `1. PostgreSQL` …, `↑↓ select  enter submit  esc dismiss`",
                ASK.question, "esc dismiss")
    agent.pane.keys("Escape")
    lab.fake.clear()


def _codex_submit(agent: codex.CodexAgent, lab: codex.CodexLab, text: str) -> None:
    """Type ``text`` and Enter; Enter again only while no turn reached the fake (CodexAgent.send presses
    Enter until the title shows a turn, and a question dialog shows none: that Enter would answer it)."""
    turns = len(lab.fake.turns())
    agent.pane.type(text)
    time.sleep(0.3)
    agent.pane.keys("Enter")
    for _ in range(15):
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            if len(lab.fake.turns()) > turns:
                return
            time.sleep(0.2)
        agent.pane.keys("Enter")
    raise AssertionError(f"no turn reached the fake:\n{agent.pane.capture()}")


def codex_flow(lab: codex.CodexLab) -> Iterator[Shot]:
    """Plan mode (shift+tab until `Plan mode`): request_user_input, then a `<proposed_plan>` reply."""
    agent = lab.launch("Codex-planner")
    agent.wait_ready()
    time.sleep(2)  # shift+tab pressed while the session starts is lost
    for _ in range(8):
        agent.pane.keys("BTab")
        time.sleep(1.5)
        if "plan mode" in agent.pane.capture().lower():
            break
    question = {"id": "database", "header": ASK.header, "question": ASK.question, "options": _options()}
    lab.fake.push(ToolCall("request_user_input", {"questions": [question]}))
    _codex_submit(agent, lab, "set up the service")
    yield _shot(agent, "request-user-input", "`Question 1/1 (1 unanswered)`, the question, `› 1. PostgreSQL` …, "
                "`enter to submit answer`", ASK.question, "enter to submit")
    agent.pane.keys("Escape")
    agent.wait_ready()
    lab.fake.clear()

    lab.fake.push(fa.Text(f"Here is the plan.\n\n<proposed_plan>\n# Service\n\n{PLAN}\n</proposed_plan>\n"))
    _codex_submit(agent, lab, "plan the service")
    yield _shot(agent, "implement-plan", "`• Proposed Plan`, `Implement this plan?`, `› 1. Yes, implement this plan` …",
                "Implement this plan?")
    agent.pane.keys("Escape")
    lab.fake.clear()


def _run(lab: CliLab | codex.CodexLab, flow: Callable[[Any], Iterator[Shot]]) -> list[Shot]:
    with lab:
        return list(flow(lab))


#: corpus folder -> (version for facts.json, lab factory, flow)
CAPTURES: dict[str, tuple[str, Callable[[Path], Any], Callable[[Any], Iterator[Shot]]]] = {
    "gemini": (f"gemini-cli {gemini.GEMINI}", gemini.GeminiLab, gemini_flow),
    "gemini-0.30": (f"gemini-cli {gemini.GEMINI_OLD}",
                    lambda root: gemini.GeminiLab(root, gemini.gemini_bin(gemini.GEMINI_OLD).parent),
                    lambda lab: gemini_flow(lab, plan=False)),
    "qwen": (f"qwen-code {qwen.QWEN}", qwen.QwenLab, qwen_flow),
    "opencode": (f"opencode {opencode.OPENCODE}", opencode.OpencodeLab, opencode_flow),
    "codex": (f"codex-cli {codex.CODEX}", lambda root: codex.CodexLab(root), codex_flow),
}


def main(argv: list[str]) -> int:
    """Capture the dialogs of the named corpus folders (all by default) into tests/corpus/."""
    from tests.realagents.capture import CORPUS, save

    with tempfile.TemporaryDirectory(prefix="tmux-orc-dialogs-") as tmp:
        for folder, (version, make_lab, flow) in CAPTURES.items():
            if argv and folder not in argv:
                continue
            save(_run(make_lab(Path(tmp) / folder), flow), CORPUS / folder, version)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
