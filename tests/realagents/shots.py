"""A *shot*: one screen of a real agent at a known moment, with the live facts the daemon would see.

Scenario drivers (``claude.py``, ``codex.py``) yield shots; the tests classify them, and
``python -m tests.realagents.capture`` saves them as golden corpus files.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from tests.realagents.harness import Pane
from tmux_orc.model import Observation, PaneInfo, ProcessFacts, State

# Corpus file prefixes per state, in the style of tests/corpus/claude-2x/labels.json.
FILE_PREFIX = {
    State.WAITING_INPUT: "waiting",
    State.RATE_LIMITED: "rate-limited",
}


@dataclass(frozen=True)
class Look:
    """One earlier look at a pane: what the daemon would have had in one cycle."""

    at: float
    screen: str
    pane: PaneInfo
    facts: ProcessFacts | None


@dataclass(frozen=True)
class Shot:
    scenario: str  # e.g. "trust-dialog"
    label: State  # the state the contract assigns to this moment
    screen: str
    pane: PaneInfo  # carries the pane title
    facts: ProcessFacts | None  # from the real process tree at capture time (None: detector not importable)
    at: float
    started_at: float  # when the agent program was launched (DetectContext.first_seen)
    note: str = ""  # one line on what the screen shows
    history: tuple[Look, ...] = field(default=())  # earlier looks at the pane, for stuck

    @property
    def filename(self) -> str:
        prefix = FILE_PREFIX.get(self.label, self.label.value)
        return f"{prefix}-real-{self.scenario}.txt"


def live_facts(pane: PaneInfo) -> ProcessFacts | None:
    """The project's own process facts for the pane, read from /proc right now."""
    try:
        from tmux_orc.detect.process import find_agent
        from tmux_orc.procfs import read_process_table
    except ImportError:
        return None
    return find_agent(pane, read_process_table())


def watch(pane: Pane, seconds: float, every: float = 1.0) -> tuple[Look, ...]:
    """Looks at the pane every ``every`` seconds for ``seconds`` (a daemon's cycles, slowed down)."""
    looks = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        screen, info = pane.capture(), pane.info()
        looks.append(Look(time.time(), screen, info, live_facts(info)))
        time.sleep(every)
    return tuple(looks)


def watch_until_frozen(pane: Pane, frozen: float, limit: float = 30.0, every: float = 1.0) -> tuple[Look, ...]:
    """Looks at the pane until its screen (as the project's stuck check sees it) has not changed for
    ``frozen`` seconds, or ``limit`` seconds have passed. A release may show a hint a few seconds into a
    tool run (`ctrl+b ctrl+b to run in background`); the frozen stretch is what comes after."""
    from tmux_orc.detect.engine import DetectContext, classify

    looks: list[Look] = []
    prev: Observation | None = None
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        screen, info = pane.capture(), pane.info()
        look = Look(time.time(), screen, info, live_facts(info))
        looks.append(look)
        if look.facts is not None:
            blind = replace(look.facts, tool_cpu_seconds=None)
            prev = classify(screen, info, blind, prev, DetectContext(now=look.at, first_seen=0.0, stuck_after=1e9))
            if look.at - prev.unchanged_since >= frozen:
                break
        time.sleep(every)
    return tuple(looks)


def last_look_shot(looks: tuple[Look, ...], scenario: str, label: State, started_at: float, note: str = "") -> Shot:
    """The last of ``looks`` as the shot and the others as its history: the moment a watch ended on is
    the moment shown (a capture taken after it may already show a passing notice come or go, such as
    Claude Code 2.0's offline `Failed to install Anthropic marketplace` in its footer)."""
    if not looks:
        raise ValueError(f"{scenario}: no look to make a shot of")
    last = looks[-1]
    return Shot(scenario, label, last.screen, last.pane, last.facts, last.at, started_at, note, looks[:-1])


def shoot(
    pane: Pane, scenario: str, label: State, started_at: float, note: str = "", screen: str | None = None
) -> Shot:
    """Capture screen, pane facts and process facts as close together as possible."""
    text = pane.capture() if screen is None else screen
    info = pane.info()
    return Shot(scenario, label, text, info, live_facts(info), time.time(), started_at, note)


def classify_shot(shot: Shot, stuck_after: float = 300.0, tool_cpu: bool = True) -> Observation:
    """The project's verdict on a shot: its earlier looks first (as previous observations), then it.

    ``tool_cpu=False`` hides the agent's tool CPU time from the engine: what the screen alone says.
    """
    from tmux_orc.detect.engine import DetectContext, classify
    from tmux_orc.detect.process import find_agent
    from tmux_orc.procfs import read_process_table

    def facts_of(facts: ProcessFacts | None, pane: PaneInfo) -> ProcessFacts:
        facts = facts or find_agent(pane, read_process_table())
        return facts if tool_cpu else replace(facts, tool_cpu_seconds=None)

    prev: Observation | None = None
    for look in shot.history:
        ctx = DetectContext(now=look.at, first_seen=shot.started_at, stuck_after=stuck_after)
        prev = classify(look.screen, look.pane, facts_of(look.facts, look.pane), prev, ctx)
    ctx = DetectContext(now=shot.at, first_seen=shot.started_at, stuck_after=stuck_after)
    return classify(shot.screen, shot.pane, facts_of(shot.facts, shot.pane), prev, ctx)


def explain(shot: Shot, obs: Observation) -> str:
    """A failure message a person can act on: what was expected, what the engine said, the screen."""
    tail = "\n".join(line for line in shot.screen.splitlines() if line.strip())[-1500:]
    return (
        f"{shot.scenario}: expected {shot.label.value}, got {obs.verdict.state.value} "
        f"(rule {obs.verdict.rule!r}, detail {obs.verdict.detail!r}); title {shot.pane.title!r}; "
        f"facts {shot.facts}\n--- screen ({shot.note}) ---\n{tail}"
    )


def assert_labelled(shot: Shot) -> None:
    """The engine names the state the scenario drove the agent into; else :func:`explain` says why not."""
    obs = classify_shot(shot)
    assert obs.verdict.state is shot.label, explain(shot, obs)
