"""The real opencode (npm ``opencode-ai``) in a private tmux server, against :mod:`fake_chat`.

Offline set-up: ``$XDG_CONFIG_HOME/opencode/opencode.json`` declares a provider ``fake`` using
``@ai-sdk/openai-compatible`` with ``options.baseURL`` at the fake, makes it the model and the small model,
turns autoupdate and sharing off and makes ``bash`` ask first; env switches stop the models.dev fetch,
LSP downloads, default plugins and auto-update. The ``opencode`` bin is a native binary (``opencode.exe``
in the npm package; its process is called ``opencode``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

from tests.realagents import fake_anthropic as fa
from tests.realagents import fake_chat as fc
from tests.realagents.cli_lab import CliAgent, CliLab, argv_of, comm_of, stopped_flow
from tests.realagents.harness import AGENTS_DIR, ScreenTimeout
from tests.realagents.shots import Shot
from tmux_orc.model import State

OPENCODE = "1.18.33"  # pinned in scripts/install-agents
MODEL = "gpt-4o"
RESUME = "opencode --continue"
ENV = {
    "OPENCODE_DISABLE_MODELS_FETCH": "1",
    "OPENCODE_DISABLE_AUTOUPDATE": "1",
    "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
    "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
    "OPENCODE_DISABLE_SHARE": "1",
    "OPENCODE_DISABLE_CLAUDE_CODE": "1",
    "FAKE_OPENAI_KEY": "sk-fake-opencode",
}


def opencode_bin() -> Path:
    return AGENTS_DIR / "opencode" / "node_modules" / ".bin" / "opencode"


def is_opencode(pid: int) -> bool:
    """The native binary: comm ``opencode`` (argv[0] the ``.bin/opencode`` symlink or ``opencode.exe``)."""
    argv = argv_of(pid)
    return comm_of(pid).startswith("opencode") or bool(argv and Path(argv[0]).name in ("opencode", "opencode.exe"))


def _config(base_url: str) -> dict[str, object]:
    return {
        "$schema": "https://opencode.ai/config.json",
        "provider": {
            "fake": {
                "npm": "@ai-sdk/openai-compatible",
                "name": "Fake",
                "options": {"baseURL": f"{base_url}/v1", "apiKey": "{env:FAKE_OPENAI_KEY}"},
                "models": {MODEL: {"name": "Fake GPT-4o"}},
            }
        },
        "model": f"fake/{MODEL}",
        "small_model": f"fake/{MODEL}",
        "autoupdate": False,
        "share": "disabled",
        "permission": {"bash": "ask", "edit": "ask"},
    }


class OpencodeLab(CliLab):
    """A tmux server and a fake Chat Completions API."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, fc.FakeChat(model=MODEL), session="opencode-team")

    def start(self, window: str, args: str = "") -> CliAgent:
        config = _config(self.fake.base_url)

        def prepare(home: Path, _project: Path) -> None:
            folder = home / ".config" / "opencode"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "opencode.json").write_text(json.dumps(config, indent=2))

        command = f"opencode {args}".strip()
        return self.launch(window, command, ENV, [opencode_bin().parent], is_opencode, prepare)


def ready(screen: str) -> bool:
    """The input box with its `ctrl+p commands` footer and no turn running (no `esc [again to] interrupt`)."""
    lines = [line for line in screen.splitlines() if line.strip()]
    footer = "\n".join(lines[-2:])  # the fresh screen puts its folder and version under the key hints
    return "ctrl+p commands" in footer and "interrupt" not in footer and "Permission required" not in screen


def busy(screen: str) -> bool:
    lines = [line for line in screen.splitlines() if line.strip()]
    return bool(lines) and "interrupt" in lines[-1]


def wait_ready(agent: CliAgent, timeout: float = 40.0) -> str:
    return agent.pane.wait_for(ready, "opencode prompt", timeout)


def wait_busy(agent: CliAgent, timeout: float = 20.0) -> str:
    return agent.pane.wait_for(busy, "opencode `esc interrupt`", timeout)


def interrupt(agent: CliAgent) -> str:
    """Escape twice (the first only arms `esc again to interrupt`; a retry status line hides that hint)."""
    for _ in range(3):
        agent.pane.keys("Escape")
        time.sleep(0.5)
        agent.pane.keys("Escape")
        try:
            return wait_ready(agent, timeout=10)
        except ScreenTimeout:
            continue
    return wait_ready(agent, timeout=1)


def main_flow(lab: OpencodeLab) -> Iterator[Shot]:
    """One pane through idle, typed, thinking, streaming, interrupted, done, approval, errors, kill."""
    agent = lab.start("Opencode-developer")
    pane, fake = agent.pane, lab.fake
    yield agent.shot(
        "fresh-prompt",
        State.IDLE,
        'logo, `┃  Ask anything… "<example>"` input, `tab agents  ctrl+p commands`',
        pane.wait_text("Ask anything", "ctrl+p commands", timeout=40),
    )

    pane.type("say hello")
    yield agent.shot("typed", State.UNSUBMITTED, "`┃  say hello` in the input box", pane.wait_text("say hello"))

    fake.push(fa.SlowStream(seconds=20, first_delay=5))
    pane.keys("Enter")
    wait_busy(agent)
    yield agent.shot("thinking", State.WORKING, "`⬝⬝⬝■⬝⬝⬝⬝  esc interrupt` before the first token")
    pane.wait_text("tick tick")
    yield agent.shot("streaming", State.WORKING, "reply streaming over `▣  Build · <model>`, `esc interrupt`")

    yield agent.shot("interrupted", State.IDLE, "`▣  Build · <model> · interrupted`", interrupt(agent))
    fake.clear()

    agent.greet(fake, "Hello there from fake opencode.")
    yield agent.shot("after-turn", State.IDLE, "reply over `▣  Build · <model> · 62ms`", wait_ready(agent))

    fake.push(fc.ToolCall("bash", {"command": "touch probe.txt", "description": "Create a probe file"}))
    agent.send("make a probe file")
    yield agent.shot(
        "approval",
        State.WAITING_INPUT,
        "`△ Permission required` / `Allow once   Allow always   Reject` / `enter confirm`",
        pane.wait_text("Permission required", "Allow once"),
    )
    pane.keys("Escape")
    wait_ready(agent)
    fake.clear()

    fake.push(*[fc.chat_rate_limited()] * 10)
    agent.send("once more")
    yield agent.shot(
        "429",
        State.RATE_LIMITED,
        "status line: `<429 message> … [retrying in 59m 55s attempt #1]` (its retry-after)",
        pane.wait_text("Rate limit reached", "retrying in"),
    )
    fake.clear()
    interrupt(agent)

    fake.push(*[fc.chat_server_error(500)] * 10)
    agent.send("and again")
    yield agent.shot(
        "500",
        State.ERROR,
        "status line: `<500 message> [retrying in Ns attempt #n]`",
        pane.wait_text("server had an error", "retrying in"),
    )
    fake.clear()
    interrupt(agent)

    fake.push(fc.chat_bad_request())
    agent.send("bad request")
    pane.wait_text("could not be parsed")
    wait_ready(agent)
    yield agent.shot(
        "400",
        State.ERROR,
        "not retried: the API's message as a `┃` block over a bare `▣  Build · <model>` (no duration)",
    )

    agent.kill()
    yield agent.shot("killed", State.CRASHED, "bash `Killed` + prompt over the dead TUI", agent.wait_shell())


def stopped(lab: OpencodeLab) -> Iterator[Shot]:
    """A stream frozen by SIGSTOP."""
    yield from stopped_flow(lab.start("Opencode-tester"), lab.fake, wait_ready, wait_busy)
