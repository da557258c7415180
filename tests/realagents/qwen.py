"""The real Qwen Code (npm ``@qwen-code/qwen-code``, a Gemini CLI fork) in a private tmux server, against
:mod:`fake_chat` (OpenAI Chat Completions).

Offline set-up: ``~/.qwen/settings.json`` selects ``openai`` auth and turns folder trust, telemetry, usage
statistics, auto-update and tips off; env ``OPENAI_API_KEY``, ``OPENAI_BASE_URL`` (the fake's ``/v1``) and
``OPENAI_MODEL``; ``--auth-type openai`` on the command line. The ``qwen`` bin is a node script
(``cli-entry.js``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.realagents import fake_anthropic as fa
from tests.realagents import fake_chat as fc
from tests.realagents.cli_lab import CliAgent, CliLab, argv_of, stopped_flow
from tests.realagents.harness import AGENTS_DIR
from tests.realagents.shots import Shot
from tmux_orc.model import State

QWEN = "0.24.4"  # pinned in scripts/install-agents
MODEL = "gpt-4o"
RESUME = "qwen --continue"


def qwen_bin() -> Path:
    return AGENTS_DIR / "qwen" / "node_modules" / ".bin" / "qwen"


def is_qwen(pid: int) -> bool:
    """``node .../bin/qwen ...`` (the bin symlink to ``cli-entry.js``) or a script of the package."""
    argv = argv_of(pid)
    return (
        len(argv) >= 2
        and Path(argv[0]).name == "node"
        and (Path(argv[1]).name == "qwen" or "@qwen-code/qwen-code" in argv[1])
    )


def is_turn(body: dict[str, Any]) -> bool:
    """A streamed request with tools, unless it is the auto-memory side call (kept out even when the
    setting above is ignored by another release)."""
    messages = body.get("messages") or []
    return fc.has_tools(body) and "Managed memory" not in str(messages[-1:])


def _settings(home: Path, _project: Path) -> None:
    (home / ".qwen").mkdir(parents=True, exist_ok=True)
    settings = {
        "security": {"auth": {"selectedType": "openai"}, "folderTrust": {"enabled": False}},
        "telemetry": {"enabled": False},
        "privacy": {"usageStatisticsEnabled": False},
        "general": {"disableAutoUpdate": True, "enableAutoUpdate": False},
        "ui": {"hideTips": True, "enableFollowupSuggestions": False},
        "tools": {"useRipgrep": False},
        "model": {"name": MODEL},
        # managed auto-memory runs a streamed side call *with tools* after turns ("Managed memory has
        # TWO directories…"), indistinguishable from a turn by its shape
        "memory": {"enableManagedAutoMemory": False, "enableManagedAutoDream": False},
    }
    (home / ".qwen" / "settings.json").write_text(json.dumps(settings, indent=2))


class QwenLab(CliLab):
    """A tmux server and a fake Chat Completions API."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, fc.FakeChat(model=MODEL, turn_if=is_turn), session="qwen-team")

    def start(self, window: str, args: str = "") -> CliAgent:
        env = {
            "OPENAI_API_KEY": "sk-fake-qwen",
            "OPENAI_BASE_URL": f"{self.fake.base_url}/v1",
            "OPENAI_MODEL": MODEL,
            "NO_BROWSER": "1",
        }
        command = f"qwen --auth-type openai --approval-mode default -m {MODEL} {args}".strip()
        return self.launch(window, command, env, [qwen_bin().parent], is_qwen, _settings)


def title_busy(title: str) -> bool:
    return "Working" in title


def wait_ready(agent: CliAgent, timeout: float = 40.0) -> str:
    return agent.pane.wait_for(lambda s: "Type your message" in s and "esc to cancel" not in s, "qwen prompt", timeout)


def wait_busy(agent: CliAgent, timeout: float = 20.0) -> str:
    return agent.pane.wait_text("esc to cancel", timeout=timeout)


def cancel(agent: CliAgent) -> str:
    """Escape cancels a turn and puts its message back into the prompt; ctrl+u clears that."""
    agent.pane.keys("Escape")
    agent.pane.wait_text("Request cancelled")
    time.sleep(0.5)
    agent.pane.keys("C-u")
    return wait_ready(agent)


def main_flow(lab: QwenLab) -> Iterator[Shot]:
    """One pane through idle, typed, thinking, streaming, interrupted, done, approval, errors, kill."""
    agent = lab.start("Qwen-developer")
    pane, fake = agent.pane, lab.fake
    yield agent.shot("fresh-prompt", State.IDLE, "fresh prompt", wait_ready(agent))

    pane.type("say hello")
    yield agent.shot("typed", State.UNSUBMITTED, "`> say hello`", pane.wait_text("say hello"))

    fake.push(fa.SlowStream(seconds=20, first_delay=6))
    pane.keys("Enter")
    yield agent.shot("thinking", State.WORKING, "spinner before the first token", wait_busy(agent))
    pane.wait_text("tick tick")
    yield agent.shot("streaming", State.WORKING, "reply streaming above the spinner")

    pane.keys("Escape")
    yield agent.shot(
        "interrupted",
        State.UNSUBMITTED,
        "Escape cancels (`●︎ Request cancelled.`) and puts the message back into the prompt",
        pane.wait_text("Request cancelled", "> say hello"),
    )
    fake.clear()
    pane.keys("C-u")
    wait_ready(agent)

    agent.greet(fake, "Hello there from fake qwen.")
    yield agent.shot("after-turn", State.IDLE, "reply above an empty prompt", wait_ready(agent))

    fake.push(fc.ToolCall("run_shell_command", {"command": "touch probe.txt", "description": "Create a probe file"}))
    agent.send("make a probe file")
    yield agent.shot("approval", State.WAITING_INPUT, "shell approval", pane.wait_regex(r"(?i)allow|proceed|approve"))
    pane.keys("Escape")
    wait_ready(agent)
    fake.clear()

    fake.push(*[fc.chat_rate_limited()] * 20)
    agent.send("once more")
    wait_busy(agent)
    time.sleep(6)
    yield agent.shot(
        "429-retrying",
        State.WORKING,
        "429 retried silently: only the spinner `<quip>... (Ns · esc to cancel)`, as a slow first token",
    )
    fake.clear()
    cancel(agent)

    fake.push(*[fc.chat_server_error(500)] * 20)
    agent.send("and again")
    wait_busy(agent)
    time.sleep(6)
    yield agent.shot("500-retrying", State.WORKING, "500 retried silently under the spinner, as 429")
    fake.clear()
    cancel(agent)

    fake.push(fc.chat_bad_request())
    agent.send("bad request")
    yield agent.shot(
        "400",
        State.ERROR,
        "`✕ [API Error: 400 ...]` above an empty prompt",
        pane.wait_text("could not be parsed", "Type your message"),
    )

    agent.kill(whole_tree=True)  # the launcher and its relaunched cli.js
    yield agent.shot("killed", State.CRASHED, "bash `Killed` + prompt over the dead TUI", agent.wait_shell())


def stopped(lab: QwenLab) -> Iterator[Shot]:
    """A stream frozen by SIGSTOP."""
    yield from stopped_flow(lab.start("Qwen-tester"), lab.fake, wait_ready, wait_busy)
