"""The real Codex CLI (``@openai/codex``) in a private tmux server, against :mod:`fake_openai`.

Codex reads ``$CODEX_HOME/config.toml``: a custom model provider pointing at the fake's loopback URL
(``wire_api = "responses"``), no retries, and ``approval_policy = "on-request"`` so an escalated
command asks first. The ``codex`` bin is a node launcher that runs a native ``codex`` binary.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.realagents import fake_anthropic as fa
from tests.realagents import fake_openai as fo
from tests.realagents.cli_lab import argv_of, reap_under
from tests.realagents.harness import AGENTS_DIR, Pane, ScreenTimeout, TmuxBox, descendants
from tests.realagents.shots import Shot, shoot
from tmux_orc.model import State

CODEX = "0.169.0"  # pinned in scripts/install-agents
NAMES = ("codex",)
PS1 = r"user@host:\w$ "
_BRAILLE = range(0x2800, 0x2900)


def codex_bin() -> Path:
    return AGENTS_DIR / "codex" / "node_modules" / ".bin" / "codex"


def title_busy(title: str) -> bool:
    """Codex puts a braille spinner in front of the pane title while a turn runs."""
    return bool(title) and ord(title[0]) in _BRAILLE


@dataclass
class CodexAgent:
    pane: Pane
    started_at: float
    env: dict[str, str] = field(default_factory=dict)  # what its pane was started with (HOME, CODEX_HOME...)

    def shot(self, scenario: str, label: State, note: str = "", screen: str | None = None) -> Shot:
        return shoot(self.pane, scenario, label, self.started_at, note, screen)

    def ready(self, screen: str) -> bool:
        return "› " in screen and "for shortcuts" in screen and not title_busy(self.pane.title())

    def wait_ready(self, timeout: float = 30.0) -> str:
        return self.pane.wait_for(self.ready, "codex prompt", timeout)

    def wait_settled(self, hold: float = 2.0, timeout: float = 60.0) -> str:
        """Wait until Codex has set its pane title (the project folder's name: its session is up) and the
        prompt has been ready for ``hold`` seconds running. Before that the composer shows, but keys wait
        and an Enter is dropped (seen for 10 s and more on a second Codex in the same lab); after start-up
        Codex can put its busy spinner back in the title for a moment."""
        deadline = time.monotonic() + timeout
        since: float | None = None
        while True:
            screen = self.pane.capture()
            now = time.monotonic()
            if self.ready(screen) and "proj-" in self.pane.title():
                since = now if since is None else since
                if now - since >= hold:
                    return screen
            else:
                since = None
            if now > deadline:
                raise ScreenTimeout("codex prompt ready and quiet", screen)
            time.sleep(0.2)

    def wait_busy(self, timeout: float = 20.0) -> str:
        return self.pane.wait_for(lambda _s: title_busy(self.pane.title()), "codex busy title", timeout)

    def send(self, text: str) -> None:
        """Type ``text`` and submit it. Codex can drop the Enter that follows typed text (seen with its
        startup warning showing, and for many seconds on a loaded machine while its session starts):
        while the title shows no turn running, Enter is pressed again (an Enter on an empty composer does
        nothing), every 3 s for up to 45 s."""
        self.pane.type(text)
        time.sleep(0.3)
        self.pane.keys("Enter")
        for _ in range(15):
            deadline = time.monotonic() + 3.0
            while time.monotonic() < deadline:
                if title_busy(self.pane.title()) or f"› {text}" not in self.pane.capture():
                    return
                time.sleep(0.1)
            self.pane.keys("Enter")

    def tui_pid(self) -> int | None:
        """The native ``codex`` TUI under the node launcher (not its ``codex app-server`` children)."""
        for pid in descendants(self.pane.pane_pid()):
            argv = argv_of(pid)
            if argv and Path(argv[0]).name == "codex" and "app-server" not in argv:
                return pid
        return None


@dataclass
class CodexLab:
    root: Path
    fake: fo.FakeOpenAI = field(default_factory=fo.FakeOpenAI)
    box: TmuxBox = field(init=False)
    session: str = "codex-team"

    def __post_init__(self) -> None:
        self.box = TmuxBox(self.root)

    def __enter__(self) -> CodexLab:
        self.fake.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.box.kill_server()
        # Codex starts an ``app-server`` daemon from ``$CODEX_HOME`` that outlives the TUI
        reap_under(self.root, cwd_too=False)
        self.fake.stop()

    def launch(self, window: str) -> CodexAgent:
        project = self.root / f"proj-{window.lower()}"
        project.mkdir(parents=True, exist_ok=True)
        codex_home = self.root / f"home-{window.lower()}" / ".codex"
        codex_home.mkdir(parents=True, exist_ok=True)
        (codex_home / "config.toml").write_text(
            'model = "gpt-5-codex"\n'
            'model_provider = "fake"\n'
            'approval_policy = "on-request"\n'
            "[model_providers.fake]\n"
            'name = "Fake"\n'
            f'base_url = "{self.fake.base_url}/v1"\n'
            'env_key = "FAKE_OPENAI_KEY"\n'
            'wire_api = "responses"\n'
            "request_max_retries = 0\n"
            "stream_max_retries = 0\n"
        )
        env = {
            "HOME": str(codex_home.parent),
            "CODEX_HOME": str(codex_home),
            "FAKE_OPENAI_KEY": "sk-fake-codex",
            "PATH": f"{codex_bin().parent}:/usr/local/bin:/usr/bin:/bin",
            "PS1": PS1,
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
        }
        pane = self.box.new_pane(self.session, window, project, env)
        pane.run("codex")
        return CodexAgent(pane, time.time(), env)


def main_flow(lab: CodexLab) -> Iterator[Shot]:
    agent = lab.launch("Codex-developer")
    pane, fake = agent.pane, lab.fake
    agent.wait_ready(timeout=40)
    agent.wait_settled()  # its title names the project: the session is up
    yield agent.shot(
        "fresh-prompt",
        State.IDLE,
        "logo, `› Ask Codex to do anything`, `? for shortcuts`",
        agent.wait_ready(timeout=40),
    )

    pane.type("say hello")
    yield agent.shot("typed", State.UNSUBMITTED, "`› say hello` in the composer", pane.wait_text("› say hello"))

    fake.push(fa.SlowStream(seconds=20, first_delay=6))
    pane.keys("Enter")
    agent.wait_busy()
    yield agent.shot(
        "thinking",
        State.WORKING,
        "`• Working (Ns • esc to interrupt)` before the first token",
        pane.wait_text("esc to interrupt"),
    )
    pane.wait_text("tick tick")
    yield agent.shot("streaming", State.WORKING, "reply streaming; braille spinner only in the pane title")

    pane.keys("Escape")
    yield agent.shot("interrupted", State.IDLE, "turn interrupted by Escape", agent.wait_ready())
    fake.clear()

    fake.push(fa.Text("Hello there from fake codex."))
    agent.send("greet me")
    pane.wait_text("Hello there from fake codex.")
    yield agent.shot("after-turn", State.IDLE, "reply, `Worked for <1s • HH:MM`, empty composer", agent.wait_ready())

    fake.push(fa.ToolUse("touch probe.txt", "Create a probe file?"))
    agent.send("make a probe file")
    yield agent.shot(
        "approval",
        State.WAITING_INPUT,
        "`Would you like to run the following command?` 1. Yes …",
        pane.wait_text("Would you like to run the following command?"),
    )
    pane.keys("Escape")
    agent.wait_ready()

    fake.push(fo.openai_rate_limited())
    agent.send("once more")
    yield agent.shot(
        "429",
        State.RATE_LIMITED,
        "■ exceeded retry limit, last status: 429 Too Many Requests",
        pane.wait_text("429 Too Many Requests"),
    )
    agent.wait_ready()

    fake.push(fo.openai_server_error())
    agent.send("and again")
    yield agent.shot("500", State.ERROR, "■ We’re currently experiencing high demand…", pane.wait_text("high demand"))
    agent.wait_ready()

    pid = agent.tui_pid()
    assert pid is not None, "codex TUI not found under the pane"
    os.kill(pid, signal.SIGKILL)
    yield agent.shot(
        "killed",
        State.CRASHED,
        "`Killed` + shell prompt drawn over the composer, footer left behind",
        pane.wait_regex(r"^user@host:\S*\$\s*$", timeout=15),
    )


def stopped_stream(lab: CodexLab) -> Iterator[Shot]:
    """A turn frozen mid-stream: SIGSTOP of the native TUI (its node launcher sleeps on) -> stuck."""
    agent = lab.launch("Codex-tester")
    pane, fake = agent.pane, lab.fake
    agent.wait_ready(timeout=40)
    agent.wait_settled()
    fake.push(fa.SlowStream(seconds=40))
    agent.send("stream for a while")
    agent.wait_busy()
    pane.wait_text("tick tick")
    pid = agent.tui_pid()
    assert pid is not None, "codex TUI not found under the pane"
    os.kill(pid, signal.SIGSTOP)
    try:
        yield agent.shot("sigstop", State.STUCK, "native TUI stopped mid-stream; the launcher still sleeps")
    finally:
        os.kill(pid, signal.SIGKILL)  # a stopped process still dies of SIGKILL
        fake.clear()
