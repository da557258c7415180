"""The real Aider (PyPI ``aider-chat``, in its own venv) in a private tmux server, against :mod:`fake_chat`.

Offline set-up: ``--openai-api-base`` at the fake's ``/v1`` with model ``openai/gpt-4o``, no git, no update
check, analytics off, no release notes, no model warnings; env ``LITELLM_LOCAL_MODEL_COST_MAP=True`` and
litellm's bundled price list copied to ``~/.aider/caches/`` (else both fetch it at start). Aider offers no
tools: every streamed request is a turn; a reply with a fenced ``bash`` block makes it ask
"Run shell command?". Its process is ``python .../bin/aider ...`` (the venv's console script).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

from tests.realagents import fake_anthropic as fa
from tests.realagents import fake_chat as fc
from tests.realagents.cli_lab import CliAgent, CliLab, argv_of, stopped_flow
from tests.realagents.harness import AGENTS_DIR
from tests.realagents.shots import Shot
from tmux_orc.model import State

AIDER = "0.86.2"  # pinned in scripts/install-agents
MODEL = "gpt-4o"
RESUME = "aider --restore-chat-history"
FLAGS = "--no-git --no-show-model-warnings --no-check-update --analytics-disable --no-show-release-notes"


def aider_venv() -> Path:
    return AGENTS_DIR / "aider"


def aider_bin() -> Path:
    return aider_venv() / "bin" / "aider"


def is_aider(pid: int) -> bool:
    """``python3 .../bin/aider ...`` (the console script; comm is ``aider`` or ``python3``)."""
    argv = argv_of(pid)
    return any(Path(arg).name == "aider" for arg in argv[:2])


def _price_list() -> Path | None:
    found = sorted(aider_venv().glob("lib/python*/site-packages/litellm/model_prices_and_context_window_backup.json"))
    return found[0] if found else None


def _prepare(home: Path, _project: Path) -> None:
    caches = home / ".aider" / "caches"
    caches.mkdir(parents=True, exist_ok=True)
    prices = _price_list()
    if prices is not None:
        shutil.copy(prices, caches / "model_prices_and_context_window.json")


class AiderLab(CliLab):
    """A tmux server and a fake Chat Completions API (every streamed request is a turn)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, fc.FakeChat(model=MODEL, turn_if=fc.streamed), session="aider-team")

    def start(self, window: str, args: str = "") -> CliAgent:
        env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "AIDER_ANALYTICS": "false"}
        command = (
            f"aider --openai-api-base {self.fake.base_url}/v1 --openai-api-key sk-fake-aider"
            f" --model openai/{MODEL} {FLAGS} {args}"
        ).strip()
        return self.launch(window, command, env, [aider_bin().parent], is_aider, _prepare)


def ready(screen: str) -> bool:
    lines = [line for line in screen.splitlines() if line.strip()]
    return bool(lines) and lines[-1].rstrip() == ">"


def wait_ready(agent: CliAgent, timeout: float = 40.0) -> str:
    return agent.pane.wait_for(ready, "aider `>` prompt", timeout)


def main_flow(lab: AiderLab) -> Iterator[Shot]:
    """One pane through idle, typed, streaming, interrupted, done, shell approval, errors, kill."""
    agent = lab.start("Aider-developer")
    pane, fake = agent.pane, lab.fake
    yield agent.shot("fresh-prompt", State.IDLE, "banner, `>` prompt as the last line", wait_ready(agent))

    pane.type("say hello")
    yield agent.shot("typed", State.UNSUBMITTED, "`> say hello` as the last line", pane.wait_text("> say hello"))

    fake.push(fa.SlowStream(seconds=20, first_delay=5))
    pane.keys("Enter")
    yield agent.shot(
        "thinking",
        State.WORKING,
        "`░█ Waiting for openai/gpt-4o` before the first token",
        pane.wait_text("Waiting for"),
    )
    pane.wait_text("tick tick")
    yield agent.shot("streaming", State.WORKING, "reply streaming, no prompt")

    pane.keys("C-c")
    yield agent.shot("interrupted", State.IDLE, "ctrl+c: `^C KeyboardInterrupt` and a fresh `>`", wait_ready(agent))
    fake.clear()

    agent.greet(fake, "Hello there from fake aider.")
    yield agent.shot("after-turn", State.IDLE, "reply, `Tokens: … Cost: …`, `>`", wait_ready(agent))

    fake.push(fa.Text("Run this:\n\n```bash\ntouch probe.txt\n```\n"))
    agent.send("make a probe file")
    yield agent.shot(
        "approval",
        State.WAITING_INPUT,
        "`Run shell command? (Y)es/(N)o/(D)on't ask again [Yes]:`",
        pane.wait_text("Run shell command?"),
    )
    pane.type("n")
    pane.keys("Enter")
    wait_ready(agent)

    fake.push(*[fc.chat_rate_limited()] * 30)
    agent.send("once more")
    yield agent.shot(
        "429-retrying",
        State.RATE_LIMITED,
        "`litellm.RateLimitError: …` + `Retrying in N seconds...`",
        pane.wait_regex(r"Retrying in [\d.]+ seconds"),
    )
    fake.clear()  # the next retry gets an answer
    pane.wait_text("Hello from the fake model.")
    yield agent.shot(
        "429-recovered",
        State.IDLE,
        "a retry got through: the RateLimitError lines stay above the reply and the `>` prompt",
        wait_ready(agent),
    )

    fake.push(*[fc.chat_server_error(500)] * 30)
    agent.send("and again")
    yield agent.shot(
        "500-retrying",
        State.ERROR,
        "`litellm.InternalServerError: …` + `Retrying in N seconds...`",
        pane.wait_text("InternalServerError", "Retrying in"),
    )
    fake.clear()
    yield agent.shot(
        "500-recovered",
        State.IDLE,
        "a retry got through: the InternalServerError lines stay above the reply and the `>` prompt",
        wait_ready(agent),
    )

    fake.push(fc.chat_bad_request())
    agent.send("bad request")
    yield agent.shot(
        "400", State.ERROR, "`litellm.BadRequestError: …` above `>`", pane.wait_text("could not be parsed")
    )
    wait_ready(agent)

    agent.kill(whole_tree=True)
    yield agent.shot("killed", State.CRASHED, "bash `Killed` + shell prompt", agent.wait_shell())


def stopped(lab: AiderLab) -> Iterator[Shot]:
    """A stream frozen by SIGSTOP."""
    note = "bash `[1]+ Stopped` over the frozen stream"
    yield from stopped_flow(lab.start("Aider-tester"), lab.fake, wait_ready, None, note=note)
