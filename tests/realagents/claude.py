"""The real Claude Code CLI in a private tmux server, against :mod:`fake_anthropic`, and its scenarios.

:class:`ClaudeLab` owns one tmux server and one fake API; :meth:`ClaudeLab.launch` opens a window
(``Claude-developer`` etc.) running bash, prepares a private ``HOME`` and types ``claude`` into the shell,
like a user. The scenario functions drive the CLI into one state each and return :class:`Shot`\\ s.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.realagents import fake_anthropic as fa
from tests.realagents.harness import AGENTS_DIR, Pane, ScreenTimeout, TmuxBox, wait_proc_state
from tests.realagents.shots import (
    Look,
    Shot,
    classify_shot,
    last_look_shot,
    live_facts,
    shoot,
    watch,
    watch_until_frozen,
)
from tmux_orc.model import State

CLAUDE_2 = "2.1.330"  # pinned in scripts/install-agents
CLAUDE_1 = "1.0.128"
API_KEY = "sk-ant-api03-" + "f" * 60 + "FAKEKEYFORTESTS00001"
PS1 = r"user@host:\w$ "
TRUST_YES = r"Yes, I trust this folder|Yes, proceed"
NAMES = ("claude",)  # what the agent process is called under the pane (comm / argv[0])
# the transcript's error line: a bare "429" also matches the fake API's port in the welcome box (:34299)
API_ERROR_429 = r"(?i)\bapi error\b.*\b429\b"


def claude_prefix(generation: int) -> Path:
    """The npm prefix of the pinned Claude Code of a generation, or another release named by
    ``TMUX_ORC_TEST_CLAUDE<generation>_PREFIX`` (``npm install --prefix DIR @anthropic-ai/claude-code@X``)."""
    override = os.environ.get(f"TMUX_ORC_TEST_CLAUDE{generation}_PREFIX")
    return Path(override) if override else AGENTS_DIR / f"claude-{generation}"


CLAUDE_20_PREFIX = AGENTS_DIR / "claude-2.0"  # an older 2.x release (node cli.js, other dialogs), see install-agents


def prefix_bin(prefix: Path) -> Path:
    return prefix / "node_modules" / ".bin" / "claude"


def prefix_version(prefix: Path) -> str:
    """The release installed under ``prefix`` (its package.json), "" when none is."""
    package = prefix / "node_modules" / "@anthropic-ai" / "claude-code" / "package.json"
    try:
        return str(json.loads(package.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return ""


def claude_bin(generation: int) -> Path:
    return prefix_bin(claude_prefix(generation))


def claude_version(generation: int) -> str:
    """The installed release of a generation, else the pinned one."""
    return prefix_version(claude_prefix(generation)) or (CLAUDE_2 if generation == 2 else CLAUDE_1)


def _closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ClaudeAgent:
    """One ``claude`` started in one pane."""

    pane: Pane
    generation: int
    started_at: float
    project: Path
    env: dict[str, str] = field(default_factory=dict)  # what its pane was started with (HOME, API URL...)

    def shot(self, scenario: str, label: State, note: str = "", screen: str | None = None) -> Shot:
        return shoot(self.pane, scenario, label, self.started_at, note, screen)

    def pid(self) -> int | None:
        return self.pane.agent_pid(NAMES)

    # -- screen predicates (both generations) -------------------------------------------------------

    def prompt_ready(self, screen: str) -> bool:
        """The input box is drawn, nothing is streaming, no dialog is open."""
        if "esc to interrupt" in screen or "Do you want to proceed?" in screen:
            return False
        box = re.search(r"^(❯|>)\s", screen, re.M) is not None  # ❯ + no-break space in 2.x
        footer = any(s in screen for s in ("shift+tab to cycle", "? for shortcuts", "for shortcuts"))
        return box and footer

    def wait_ready(self, timeout: float = 30.0) -> str:
        return self.pane.wait_for(self.prompt_ready, "claude prompt", timeout)

    def wait_working(self, timeout: float = 20.0) -> str:
        return self.pane.wait_for(lambda s: "esc to interrupt" in s and "…" in s, "spinner", timeout)

    def choose(self, option: str) -> None:
        """Move a dialog's ``❯`` to the option matching the regex ``option``, then Enter.

        Lists wrap (Down from the last option goes back to the first) and a key sent before the dialog's
        input handler is mounted is dropped: so one Down at a time, each seen to move the pointer (a slow
        render gets 15 s) before the next; a key that moved nothing is sent again.
        """
        target = re.compile(rf"❯\s+(?:\d+\.\s+)?(?:{option})")
        pointer = re.compile(r"^\s*❯\s+(?:\d+\.\s+)?(.+?)\s*$", re.M)
        for _ in range(8):
            screen = self.pane.capture()
            if target.search(screen):
                break
            before = pointer.findall(screen)
            self.pane.keys("Down")
            try:
                self.pane.wait_for(lambda s, b=before: pointer.findall(s) != b, "the dialog pointer to move", 15.0)
            except ScreenTimeout:
                continue
        else:
            raise ScreenTimeout(f"option {option!r} selected", self.pane.capture())
        self.pane.keys("Enter")

    def wait_trust_dialog(self) -> str:
        """The folder-trust dialog (2.1: `Yes, I trust this folder`; 2.0: `Yes, proceed`)."""
        return self.pane.wait_regex(TRUST_YES, timeout=30)

    def accept_trust(self) -> None:
        self.pane.wait_stable(1.0)
        self.choose(TRUST_YES)

    def decline_trust(self) -> str:
        """Choose `No, exit` (again, if the Enter was dropped); the screen once the shell is back."""
        self.pane.wait_stable(1.0)
        self.choose("No, exit")
        back = lambda s: s.rstrip().endswith("$") and self.pid() is None  # noqa: E731
        for _ in range(2):
            try:
                return self.pane.wait_for(back, "trust declined, shell back", 15.0)
            except ScreenTimeout:
                self.pane.keys("Enter")
        return self.pane.wait_for(back, "trust declined, shell back", 15.0)

    def ask_before_tools(self) -> None:
        """Leave auto mode (2.1's default) for the mode where each tool call asks; 2.0 starts there."""
        if "auto mode on" in self.pane.capture().replace("\xa0", " "):
            self.pane.keys("BTab")
            self.pane.wait_text("manual mode on")

    def send(self, text: str) -> None:
        self.pane.type(text)
        time.sleep(0.3 if self.generation == 2 else 1.0)  # let the TUI take the text before Enter
        self.pane.keys("Enter")


@dataclass
class ClaudeLab:
    """A tmux server + a fake Anthropic API shared by several Claude panes."""

    root: Path
    generation: int = 2
    prefix: Path | None = None  # the npm prefix of the release to run; None: the generation's pinned one
    fake: fa.FakeAnthropic = field(default_factory=fa.FakeAnthropic)
    box: TmuxBox = field(init=False)
    session: str = "team"

    def __post_init__(self) -> None:
        self.box = TmuxBox(self.root)
        if self.prefix is None:
            self.prefix = claude_prefix(self.generation)

    @property
    def bin(self) -> Path:
        assert self.prefix is not None
        return prefix_bin(self.prefix)

    @property
    def version(self) -> str:
        assert self.prefix is not None
        return prefix_version(self.prefix) or claude_version(self.generation)

    def __enter__(self) -> ClaudeLab:
        self.fake.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.box.kill_server()
        self.fake.stop()

    def home(self, name: str, project: Path, *, onboarded: bool = True, trusted: bool = True) -> Path:
        home = self.root / f"home-{name}"
        home.mkdir(parents=True, exist_ok=True)
        config: dict[str, object] = {
            "theme": "dark",
            "numStartups": 1,
            "autoUpdates": False,
            "customApiKeyResponses": {"approved": [API_KEY[-20:]], "rejected": []},
        }
        if onboarded:
            config["hasCompletedOnboarding"] = True
            config["lastOnboardingVersion"] = self.version
        if trusted:
            config["projects"] = {
                str(project): {"hasTrustDialogAccepted": True, "allowedTools": [], "mcpServers": {}, "history": []}
            }
        (home / ".claude.json").write_text(json.dumps(config, indent=2))
        return home

    def launch(
        self,
        window: str,
        *,
        onboarded: bool = True,
        trusted: bool = True,
        api_key: bool = True,
        retries: int | None = 0,
        extra_env: dict[str, str] | None = None,
    ) -> ClaudeAgent:
        """A new window running bash, then ``claude`` typed into it (not waited for)."""
        project = self.root / f"proj-{window.lower()}"
        project.mkdir(parents=True, exist_ok=True)
        home = self.home(window.lower(), project, onboarded=onboarded, trusted=trusted)
        env = {
            "HOME": str(home),
            "PATH": f"{self.bin.parent}:/usr/local/bin:/usr/bin:/bin",
            "PS1": PS1,
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
            "ANTHROPIC_BASE_URL": self.fake.base_url,
            "DISABLE_AUTOUPDATER": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
            # 1.x runs `npm view @anthropic-ai/claude-code` for its update notice: keep it on loopback, offline.
            "NPM_CONFIG_OFFLINE": "true",
            "NPM_CONFIG_REGISTRY": f"http://127.0.0.1:{_closed_port()}/",
        }
        if api_key:
            env["ANTHROPIC_API_KEY"] = API_KEY
        if retries is not None:
            env["CLAUDE_CODE_MAX_RETRIES"] = str(retries)
        env.update(extra_env or {})
        pane = self.box.new_pane(self.session, window, project, env)
        pane.run("claude")
        return ClaudeAgent(pane, self.generation, time.time(), project, env)


# -- scenarios: Claude Code 2.x ------------------------------------------------------------------------


def main_flow(lab: ClaudeLab) -> Iterator[Shot]:
    """One pane through the everyday states: trust, idle, typed, working, interrupted, done, permission,
    API errors, and finally a kill."""
    agent = lab.launch("Claude-developer", trusted=False)
    pane, fake = agent.pane, lab.fake
    agent.wait_trust_dialog()
    yield agent.shot("trust-dialog", State.WAITING_INPUT, "folder trust dialog: ❯ No, exit / Yes, I trust")
    agent.accept_trust()
    yield agent.shot("fresh-prompt", State.IDLE, "empty ❯ prompt between rules, auto-mode footer", agent.wait_ready())

    pane.type("say hello")
    yield agent.shot(
        "typed", State.UNSUBMITTED, "❯ say hello in the box, nothing streaming", pane.wait_regex(r"^(?:❯|>)\s+say hel")
    )

    fake.push(fa.SlowStream(seconds=20))
    pane.keys("Enter")
    agent.wait_working()
    time.sleep(2)  # a few deltas in: the real streaming look
    yield agent.shot("streaming", State.WORKING, "spinner `Verb… (Ns · ↓ N tokens)`, esc to interrupt")

    pane.keys("Escape")
    yield agent.shot(
        "interrupted", State.IDLE, "⎿ Interrupted · What should Claude do instead?", pane.wait_text("Interrupted")
    )
    fake.clear()

    fake.push(fa.Text("All done: hello!"))
    agent.send("greet me")
    pane.wait_text("All done: hello!")
    yield agent.shot("after-turn", State.IDLE, "reply shown, `✻ <Verb> for Ns · done <time>`", agent.wait_ready())

    agent.ask_before_tools()
    fake.push(fa.ToolUse("touch permission-probe.txt", "Create a probe file"))
    agent.send("make a probe file")
    yield agent.shot(
        "permission",
        State.WAITING_INPUT,
        "Bash command … Do you want to proceed? ❯ 1. Yes … 4. No",
        pane.wait_text("Do you want to proceed?"),
    )
    pane.keys("Escape")
    agent.wait_ready()

    fake.push(*[fa.rate_limited()] * 3)  # 2.0 (like 1.x) retries a failed stream without streaming
    agent.send("once more")
    yield agent.shot(
        "429", State.RATE_LIMITED, "● API Error: Request rejected (429) · <message>",
        pane.wait_regex(API_ERROR_429),
    )
    agent.wait_ready()

    fake.clear()
    fake.push(*[fa.overloaded()] * 3)
    agent.send("and again")
    yield agent.shot(
        "529",
        State.ERROR,
        "● API Error: 529 Overloaded. This is a server-side issue…",
        pane.wait_regex(r"API Error:? 529"),
    )
    agent.wait_ready()

    fake.clear()
    fake.push(*[fa.server_error()] * 3)
    agent.send("last try")
    yield agent.shot("500", State.ERROR, "● API Error: 500 Internal server error…", pane.wait_regex(r"API Error:? 500"))
    agent.wait_ready()

    pane.signal_agent(NAMES, signal.SIGKILL)
    yield agent.shot(
        "killed",
        State.CRASHED,
        "bash `Killed` + shell prompt drawn over the dead TUI",
        pane.wait_text("Killed", "user@host:", timeout=10),
    )


def retry_and_stop(lab: ClaudeLab) -> Iterator[Shot]:
    """Default retries: a 529 shows `retrying in Ns · attempt n/10`; then a stream frozen by SIGSTOP."""
    agent = lab.launch("Claude-qa", retries=None)
    pane, fake = agent.pane, lab.fake
    agent.wait_ready()
    fake.push(*[fa.overloaded()] * 12)  # more than the default 10 retries: the retry line stays up
    agent.send("please")
    yield agent.shot(
        "529-retrying",
        State.ERROR,
        "✻ 529 Overloaded · retrying in Ns · attempt n/10, esc to interrupt",
        pane.wait_regex(r"(?i)retrying in.*attempt", timeout=30),
    )
    pane.signal_agent(NAMES, signal.SIGTERM)
    fake.clear()

    agent = lab.launch("Claude-tester")
    pane = agent.pane
    agent.wait_ready()
    fake.push(fa.SlowStream(seconds=40, interval=1))
    agent.send("stream for a while")
    agent.wait_working()
    time.sleep(1)
    pid = pane.signal_agent(NAMES, signal.SIGSTOP)
    wait_proc_state(pid, "Tt")
    yield agent.shot(
        "sigstop",
        State.STUCK,
        "bash job control: `[1]+ Stopped claude` over the frozen spinner",
        pane.wait_text("Stopped", timeout=10),
    )
    pane.signal_agent(NAMES, signal.SIGKILL)  # a stopped process still dies of SIGKILL


def stalled_stream(lab: ClaudeLab, seconds: float = 5.0) -> Shot:
    """A stream that stops sending (server stall): screens over ``seconds`` as :attr:`Shot.history`."""
    agent = lab.launch("Claude-reviewer")
    agent.wait_ready()
    lab.fake.push(fa.SlowStream(seconds=120, interval=60, word="partial "))
    agent.send("stall please")
    agent.wait_working()
    try:  # the one delta has arrived; nothing follows (2.0 shows no token counter: just wait a little)
        agent.pane.wait_regex(r"↓ [1-9]\d* tokens", timeout=10)
    except ScreenTimeout:
        time.sleep(2.0)
    time.sleep(1.0)  # let its token counter finish counting up
    history = watch(agent.pane, seconds)
    return last_look_shot(
        history, "stalled-stream", State.STUCK, agent.started_at, "spinner whose clock ticks while no token arrives"
    )


SPIN = "import time\nend = time.monotonic() + 30\nwhile time.monotonic() < end:\n    pass\n"


def silent_tool(lab: ClaudeLab, seconds: float = 4.0, attempts: int = 3) -> Shot:
    """A Bash tool that computes for a while without printing: the spinner's clock ticks, its token
    count does not, exactly as in a stalled stream; only the tool's CPU time tells them apart. The shot
    is taken once the screen has been frozen for ``seconds``.

    The scenario is a tool that computes on a frozen screen: a run in which the machine gave the tool
    less than half a CPU while it was watched (a busy CI host once gave it 4% for 25 s), or in which the
    screen never stayed frozen for ``seconds`` before the tool ended, is not that scenario, and is run
    again once the tool has finished, ``attempts`` times at most."""
    agent = lab.launch("Claude-builder")
    agent.wait_ready()
    (agent.project / "spin.py").write_text(SPIN)
    agent.ask_before_tools()  # auto mode's classifier is not on the fake API
    note = "spinner frozen but for its clock while `python3 spin.py` computes"
    share = frozen = 0.0
    for _attempt in range(attempts):
        history = _run_spin(lab, agent, seconds)
        shot = last_look_shot(history, "silent-tool", State.WORKING, agent.started_at, note)
        share = _tool_share(history)
        frozen = shot.at - classify_shot(shot, stuck_after=1e9, tool_cpu=False).unchanged_since
        if share >= 0.5 and frozen >= seconds:
            return shot
        agent.wait_ready(timeout=45)  # the tool ends 30 s after it started, then the answer comes
    raise AssertionError(f"the tool got {share:.0%} of a CPU and the screen stayed frozen {frozen:.1f} s while "
                         f"watched, {attempts} times: a starved machine, or a screen that kept changing")


def _run_spin(lab: ClaudeLab, agent: ClaudeAgent, seconds: float) -> tuple[Look, ...]:
    """Ask for the tool, approve it, and watch the pane until it has been frozen for ``seconds``."""
    lab.fake.push(fa.ToolUse("python3 spin.py", "Build the project"), fa.Text("Built."))
    agent.send("build it")
    agent.pane.wait_text("Do you want to proceed?")
    for _ in range(3):  # ❯ 1. Yes; again only if the key was lost (the dialog is still there 10 s later)
        time.sleep(1.0)
        agent.pane.keys("Enter")
        try:
            agent.pane.wait_for(lambda s: "Do you want to proceed?" not in s, "the approval to close", 10.0)
            break
        except ScreenTimeout:
            continue
    agent.pane.wait_for(lambda _s: "python3" in _commands(agent), "the tool to run", timeout=20)
    return watch_until_frozen(agent.pane, seconds)


def _tool_share(history: tuple[Look, ...]) -> float:
    """Share of one CPU the agent's tools used between the first and the last look."""
    timed = [(look.at, look.facts.tool_cpu_seconds) for look in history if look.facts is not None]
    used = [(at, cpu) for at, cpu in timed if cpu is not None]
    if len(used) < 2 or used[-1][0] <= used[0][0]:
        return 0.0
    return (used[-1][1] - used[0][1]) / (used[-1][0] - used[0][0])


def _commands(agent: ClaudeAgent) -> tuple[str, ...]:
    facts = live_facts(agent.pane.info())
    return facts.commands if facts is not None else ()


def startup_failures(lab: ClaudeLab) -> Iterator[Shot]:
    """Screens around start-up: onboarding theme picker, declined trust, failed connectivity check."""
    agent = lab.launch("Claude-devops", onboarded=False)
    yield agent.shot(
        "onboarding-theme",
        State.WAITING_INPUT,
        "first-run theme picker: ❯ ✔ Auto (match terminal)",
        agent.pane.wait_text("Choose the text style", timeout=30),
    )
    agent.pane.signal_agent(NAMES, signal.SIGTERM)

    agent = lab.launch("Claude-researcher", trusted=False)
    agent.wait_trust_dialog()
    yield agent.shot(
        "trust-declined",
        State.CRASHED,
        "`Claude Code didn't start because this folder isn't trusted.`",
        agent.decline_trust(),
    )

    # No API key and no onboarding: a connectivity check to api.anthropic.com, through a dead loopback proxy.
    proxy = f"http://127.0.0.1:{_closed_port()}"
    agent = lab.launch(
        "Claude-pm",
        onboarded=False,
        api_key=False,
        extra_env={"HTTPS_PROXY": proxy, "HTTP_PROXY": proxy, "NO_PROXY": ""},
    )
    yield agent.shot(
        "unable-to-connect",
        State.CRASHED,
        "`Unable to connect to Anthropic services` then shell prompt",
        agent.pane.wait_for(
            lambda s: "Unable to connect" in s and s.rstrip().endswith("$"),
            "connectivity failure, shell back",
            timeout=40,
        ),
    )


def gen1_flow(lab: ClaudeLab) -> Iterator[Shot]:
    """Claude Code 1.x (node ``cli.js``): `│ >` box, spinner `(Ns · esc to interrupt)`, default mode asks."""
    agent = lab.launch("Claude-legacy")
    pane, fake = agent.pane, lab.fake
    yield agent.shot("fresh-prompt", State.IDLE, 'welcome box, `> Try "..."` placeholder', agent.wait_ready())
    pane.type("say hello")
    yield agent.shot("typed", State.UNSUBMITTED, "`> say hello`", pane.wait_text("> say hello"))
    fake.push(fa.SlowStream(seconds=20))
    pane.keys("Enter")
    agent.wait_working()
    yield agent.shot("streaming", State.WORKING, "`✻ Verb… (Ns · esc to interrupt)`")
    pane.keys("Escape")
    agent.wait_ready()
    fake.clear()
    fake.push(fa.ToolUse("touch permission-probe.txt", "Create a probe file"))
    agent.send("make a probe file")
    yield agent.shot(
        "permission",
        State.WAITING_INPUT,
        "Bash command … Do you want to proceed?",
        pane.wait_text("Do you want to proceed?"),
    )
    pane.keys("Escape")
    agent.wait_ready()
    fake.clear()
    fake.push(*[fa.rate_limited()] * 3)  # 1.x retries a failed stream without streaming
    agent.send("once more")
    yield agent.shot("429", State.RATE_LIMITED, "API Error 429 in the transcript", pane.wait_regex(API_ERROR_429))
    agent.wait_ready()
    fake.clear()
    pane.signal_agent(NAMES, signal.SIGKILL)
    yield agent.shot("killed", State.CRASHED, "shell prompt after the kill", pane.wait_text("Killed", timeout=10))


def ask_question(lab: ClaudeLab, scenario: str = "ask-question", window: str = "Claude-architect") -> Shot:
    """The model calls ``AskUserQuestion``: `☐ Header`, the question, numbered options (waiting_input)."""
    agent = lab.launch(window)
    agent.wait_ready()
    ask = fa.AskQuestion()
    lab.fake.push(ask)
    turns = len(lab.fake.turns())
    agent.send("set up the service")
    for _ in range(3):  # an Enter sent while the TUI is still taking the text can be lost: send it again
        try:
            screen = agent.pane.wait_text(ask.question, "Enter to select", timeout=15)
            break
        except ScreenTimeout:
            if len(lab.fake.turns()) > turns:
                raise  # the turn was sent: another Enter would answer the question
            agent.pane.keys("Enter")
    else:
        screen = agent.pane.wait_text(ask.question, "Enter to select", timeout=15)
    return agent.shot(scenario, State.WAITING_INPUT, "☐ Database / the question / ❯ 1. PostgreSQL …", screen)
