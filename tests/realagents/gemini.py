"""The real Gemini CLI (``@google/gemini-cli``) in a private tmux server, against :mod:`fake_gemini`.

Offline set-up: ``~/.gemini/settings.json`` selects API-key auth, turns folder trust, telemetry, usage
statistics, auto-update and tips off; env ``GEMINI_API_KEY``, ``GOOGLE_GEMINI_BASE_URL`` (the fake),
``GEMINI_CLI_NO_RELAUNCH=1`` (no child node process with a bigger heap) and ``NO_BROWSER=1``; ``-m
gemini-2.5-pro`` skips its model router. The ``gemini`` bin is a node script (``bundle/gemini.js``).
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

from tests.realagents import fake_anthropic as fa
from tests.realagents import fake_gemini as fg
from tests.realagents.cli_lab import CliAgent, CliLab, argv_of, stopped_flow
from tests.realagents.fake_chat import ToolCall
from tests.realagents.harness import AGENTS_DIR
from tests.realagents.shots import Shot
from tmux_orc.model import State

GEMINI = "0.61.0"  # pinned in scripts/install-agents
MODEL = "gemini-2.5-pro"
PROMPT = " >   Type your message or @path/to/file"
RESUME = "gemini --resume latest"


GEMINI_OLD = "0.30.1"  # an older release (boxed prompt), also pinned in scripts/install-agents


def gemini_prefix(release: str = GEMINI) -> Path:
    """The npm prefix of a pinned release (``gemini`` for the newest, ``gemini-<version>`` for older)."""
    return AGENTS_DIR / ("gemini" if release == GEMINI else f"gemini-{release}")


def gemini_bin(release: str = GEMINI) -> Path:
    return gemini_prefix(release) / "node_modules" / ".bin" / "gemini"


def is_gemini(pid: int) -> bool:
    """``node .../bin/gemini ...`` (the bin symlink to ``bundle/gemini.js``)."""
    argv = argv_of(pid)
    return len(argv) >= 2 and Path(argv[0]).name == "node" and Path(argv[1]).name in ("gemini", "gemini.js")


def _settings(home: Path, _project: Path) -> None:
    (home / ".gemini").mkdir(parents=True, exist_ok=True)
    settings = {
        "security": {"auth": {"selectedType": "gemini-api-key"}, "folderTrust": {"enabled": False}},
        "telemetry": {"enabled": False},
        "privacy": {"usageStatisticsEnabled": False},
        "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
        "ui": {"hideTips": True},
    }
    (home / ".gemini" / "settings.json").write_text(json.dumps(settings, indent=2))


def title_busy(title: str) -> bool:
    """Gemini writes its state into the pane title: ``◇  Ready (dir)``, ``✦  Working… (dir)``."""
    return "Working" in title


class GeminiLab(CliLab):
    """A tmux server and a fake Gemini API."""

    def __init__(self, root: Path, bin_dir: Path | None = None) -> None:
        super().__init__(root, fg.FakeGemini(), session="gemini-team")
        self.bin_dir = bin_dir or gemini_bin().parent

    def start(self, window: str, args: str = "") -> CliAgent:
        env = {
            "GEMINI_API_KEY": "fake-gemini-key",
            "GOOGLE_GEMINI_BASE_URL": self.fake.base_url,
            "GEMINI_CLI_NO_RELAUNCH": "1",
            "NO_BROWSER": "1",
        }
        command = f"gemini -m {MODEL} {args}".strip()
        return self.launch(window, command, env, [self.bin_dir], is_gemini, _settings)


def ready(agent: CliAgent, screen: str) -> bool:
    return "Type your message" in screen and not title_busy(agent.pane.title())


def wait_ready(agent: CliAgent, timeout: float = 40.0) -> str:
    return agent.pane.wait_for(lambda s: ready(agent, s), "gemini prompt", timeout)


def wait_busy(agent: CliAgent, timeout: float = 20.0) -> str:
    return agent.pane.wait_for(lambda _s: title_busy(agent.pane.title()), "gemini busy title", timeout)


def main_flow(lab: GeminiLab) -> Iterator[Shot]:
    """One pane through idle, typed, thinking, streaming, interrupted, done, approval, errors, kill."""
    agent = lab.start("Gemini-developer")
    pane, fake = agent.pane, lab.fake
    yield agent.shot(
        "fresh-prompt", State.IDLE, "`>   Type your message or @path/to/file` under a rule", wait_ready(agent)
    )

    pane.type("say hello")
    yield agent.shot("typed", State.UNSUBMITTED, "` > say hello` under the rule", pane.wait_text("> say hello"))

    fake.push(fa.SlowStream(seconds=20, first_delay=6))
    pane.keys("Enter")
    wait_busy(agent)
    yield agent.shot(
        "thinking", State.WORKING, "`⠼ Thinking... (esc to cancel, Ns)` above the rule", pane.wait_text("esc to cancel")
    )
    pane.wait_text("tick tick")
    yield agent.shot("streaming", State.WORKING, "`✦ tick tick` streaming above the spinner line")

    pane.keys("Escape")
    yield agent.shot("interrupted", State.IDLE, "turn cancelled by Escape", wait_ready(agent))
    fake.clear()

    agent.greet(fake, "Hello there from fake gemini.")
    yield agent.shot("after-turn", State.IDLE, "`✦ <reply>` above an empty prompt", wait_ready(agent))

    fake.push(ToolCall("run_shell_command", {"command": "touch probe.txt", "description": "Create a probe file"}))
    agent.send("make a probe file")
    yield agent.shot(
        "approval", State.WAITING_INPUT, "`Allow execution of ...?` with numbered choices", pane.wait_regex(r"Allow")
    )
    pane.keys("Escape")
    wait_ready(agent)
    fake.clear()

    fake.push(*[fg.gemini_rate_limited()] * 5)
    agent.send("once more")
    yield agent.shot(
        "429",
        State.RATE_LIMITED,
        "`Usage limit reached for all Pro models.` dialog: 1. Keep trying / 2. Stop",
        pane.wait_regex(r"(?i)usage limit|quota"),
    )
    fake.clear()
    pane.keys("Down")
    time.sleep(0.5)
    pane.keys("Enter")
    yield agent.shot(
        "429-stopped",
        State.RATE_LIMITED,
        "after `2. Stop`: `✕ [API Error: You have exhausted your daily quota…]` above an empty prompt",
        pane.wait_text("exhausted your daily quota", "Type your message"),
    )

    fake.push(fg.gemini_bad_request())
    agent.send("bad request")
    yield agent.shot(
        "400",
        State.ERROR,
        "`✕ [API Error: Request contains an invalid argument.]` above an empty prompt",
        pane.wait_text("invalid argument", "Type your message"),
    )
    wait_ready(agent)

    agent.kill()
    yield agent.shot("killed", State.CRASHED, "bash `Killed` + prompt over the dead TUI", agent.wait_shell())


def retrying_and_stopped(lab: GeminiLab) -> Iterator[Shot]:
    """A 503 retried under the spinner; then a stream frozen by SIGSTOP."""
    agent = lab.start("Gemini-qa")
    fake = lab.fake
    wait_ready(agent)
    fake.push(*[fg.gemini_server_error(503)] * 40)
    agent.send("please")
    wait_busy(agent)
    time.sleep(8)
    yield agent.shot(
        "503-retrying",
        State.WORKING,
        "503 UNAVAILABLE retried silently: only `Thinking... (esc to cancel, Ns)`, as a slow first token",
    )
    agent.signal(signal.SIGKILL)
    agent.wait_shell()
    fake.clear()

    yield from stopped_flow(lab.start("Gemini-tester"), fake, wait_ready, wait_busy, whole_tree=False)
