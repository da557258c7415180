"""Properties: classify never raises, and never says crashed while the agent program is alive."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.detect_helpers import NOW, ctx
from tmux_orc.detect.engine import classify
from tmux_orc.detect.screen import normalise
from tmux_orc.model import Kind, PaneInfo, ProcessFacts, State

PIECES = st.sampled_from(
    [
        "─" * 80,
        "❯\u00a0",
        "│ > ",
        "╭───╮",
        "╰───╯",
        "✻ Forming… (5s · ↓ 2 tokens)",
        "esc to interrupt",
        "❯ 1. Yes",
        "2. No",
        "Do you want to proceed?",
        "API Error: 500",
        "usage limit reached",
        "resets 3am (Mars/Base)",
        "resets Feb 31, 1pm",
        "(Y)es/(N)o",
        "> ",
        "› ",
        "\x1b[31m",
        "\x1b]0;title\x07",
        "\r",
        "\t",
        "\x00",
        "\n",
        " ",
    ]
)
SCREENS = st.one_of(
    st.text(max_size=3000),
    st.lists(st.one_of(PIECES, st.text(max_size=40)), max_size=80).map("".join),
    st.integers(min_value=0, max_value=200_000).map(lambda n: "x" * n),
    st.integers(min_value=0, max_value=3000).map(lambda n: "(" * n + "…" * n),
)
KINDS = st.sampled_from(list(Kind))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    screen=SCREENS,
    kind=KINDS,
    width=st.integers(-5, 10_000),
    height=st.integers(-5, 1000),
    title=st.text(max_size=50),
    alive=st.booleans(),
    stopped=st.booleans(),
    dead=st.booleans(),
    age=st.floats(-1e6, 1e6, allow_nan=False),
)
def test_classify_never_raises(
    screen: str,
    kind: Kind,
    width: int,
    height: int,
    title: str,
    alive: bool,
    stopped: bool,
    dead: bool,
    age: float,
) -> None:
    pane = PaneInfo("%1", "s", 0, "Claude-x", 0, 100, "claude", dead=dead, title=title, width=width, height=height)
    facts = ProcessFacts(kind=kind, agent_pid=200 if alive else None, stopped=stopped)
    obs = classify(screen, pane, facts, None, ctx(first_seen=NOW - age))
    again = classify(screen, pane, facts, obs, ctx(now=NOW + 1, first_seen=NOW - age))
    assert obs.verdict.rule != "engine.error", obs.verdict.detail
    assert again.screen_hash == obs.screen_hash and again.unchanged_since == obs.unchanged_since
    if alive and not dead:
        assert obs.verdict.state is not State.CRASHED
    else:
        assert obs.verdict.state is State.CRASHED


@settings(max_examples=200, deadline=None)
@given(screen=st.text(max_size=2000))
def test_normalised_lines_are_printable(screen: str) -> None:
    for line in normalise(screen):
        assert "\n" not in line and "\x1b" not in line and line == line.rstrip()
