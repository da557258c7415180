"""A bar box (opencode's input): '┃' lines closed by a '╹▀▀▀' edge, its last line the agent's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.detect_helpers import alive, look
from tmux_orc.detect.definition import DefinitionError, read_definition
from tmux_orc.detect.prompt import message_submitted, prompt_is_empty, prompt_text
from tmux_orc.model import Kind, State

EDGE = "  ╹" + "▀" * 60
HINTS = "   ~/work                                         tab agents  ctrl+p commands"
BUSY = "   ■■■⬝⬝⬝⬝⬝  esc interrupt                                   tab agents  ctrl+p commands"
SENT = "  ┃\n  ┃  fix the tests\n  ┃\n\n     Done.\n\n     ▣  Plan · Some Model · 3s\n\n"


def box(*typed: str, status: str = "Build · Some Model Provider", footer: str = HINTS, above: str = SENT) -> str:
    """An opencode screen: a sent message and a reply (``above``), then the input box holding ``typed``."""
    inner = "\n".join(f"  ┃  {t}" if t else "  ┃" for t in (typed or ("",)))
    return f"{above}\n  ┃\n{inner}\n  ┃\n  ┃  {status}\n{EDGE}\n{footer}\n"


def test_the_box_holds_the_typed_text_not_the_agent_line() -> None:
    assert prompt_text(box(), Kind.OPENCODE) == ""
    assert prompt_text(box("say hello"), Kind.OPENCODE) == "say hello"
    assert prompt_text(box("first line", "second line"), Kind.OPENCODE) == "first line\nsecond line"
    assert prompt_text(box("Plan · a typed line that looks like the agent's"), Kind.OPENCODE) == (
        "Plan · a typed line that looks like the agent's")


@pytest.mark.parametrize("placeholder", ['Ask anything… "Fix broken tests"',
                                         'Ask anything… "What is the tech stack of this project?"'])
def test_the_placeholder_is_an_empty_prompt(placeholder: str) -> None:
    screen = box(placeholder)
    assert prompt_is_empty(screen, Kind.OPENCODE)
    assert look(screen, alive(Kind.OPENCODE)).verdict.state is State.IDLE


def test_states_read_through_the_box() -> None:
    assert look(box("say hello"), alive(Kind.OPENCODE)).verdict.state is State.UNSUBMITTED
    assert look(box(footer=BUSY), alive(Kind.OPENCODE)).verdict.state is State.WORKING
    assert look(box("queued", footer=BUSY), alive(Kind.OPENCODE)).verdict.state is State.WORKING


def test_a_sent_message_block_without_the_edge_is_not_the_prompt() -> None:
    assert prompt_text(SENT + HINTS, Kind.OPENCODE) is None
    screen = box("[tmux-orc] 1 alert")
    assert not message_submitted(screen, screen, "[tmux-orc] 1 alert", Kind.OPENCODE)
    assert message_submitted(screen, box(footer=BUSY), "[tmux-orc] 1 alert", Kind.OPENCODE)


def test_the_agent_line_alone_under_a_shell_is_no_box() -> None:
    crashed = f"{SENT}  ┃\n  ┃  Killed\nuser@host:~$\n  ┃  Build · Some Model Provider\n{EDGE}\n{HINTS}\n"
    assert prompt_text(crashed, Kind.OPENCODE) is None


def test_an_edge_far_above_the_bottom_is_transcript() -> None:
    screen = box() + "\n".join(f"     line {i}" for i in range(20))
    assert prompt_text(screen, Kind.OPENCODE) is None


def test_a_definitions_edge_must_be_a_regular_expression(tmp_path: Path) -> None:
    path = tmp_path / "bars.toml"
    path.write_text("name = 'bars'\n[process]\nnames = ['bars']\n[[screen.prompts]]\nname = 'bars.box'\n"
                    "line = '^(?P<text>.*)$'\nedge = '^╹('\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"screen\.prompts\[0\]\.edge"):
        read_definition(path)


def _with_turn(last: str, older: str = "▣  Build · Some Model · 3s") -> str:
    """An opencode screen: transcript at the top, a gap, the box pinned to the bottom."""
    transcript = f"  ┃\n  ┃  first\n  ┃\n\n     {older}\n\n  ┃\n  ┃  second\n  ┃\n\n     {last}\n"
    return box(above=transcript + "\n" * 20)


@pytest.mark.parametrize(("last", "older", "state"), [
    ("▣  Build · Some Model", "▣  Build · Some Model · 3s", State.ERROR),  # the newest turn never finished
    ("▣  Build · Some Model · 2s", "▣  Build · Some Model", State.IDLE),  # an older one did not: no matter
    ("▣  Build · Some Model · interrupted", "▣  Build · Some Model · 3s", State.IDLE),
])
def test_the_newest_turn_decides(last: str, older: str, state: State) -> None:
    verdict = look(_with_turn(last, older), alive(Kind.OPENCODE)).verdict
    assert verdict.state is state, verdict


def test_the_blank_gap_over_a_pinned_box_is_not_the_transcript() -> None:
    from tmux_orc.detect.profiles import DEFAULT_PROFILES
    from tmux_orc.detect.screen import read_layout

    profile = DEFAULT_PROFILES.get(Kind.OPENCODE)
    assert profile is not None
    layout = read_layout(_with_turn("▣  Build · Some Model · 2s"), profile.shape)
    assert layout.tail == ("▣  Build · Some Model · 2s",) and "second" in layout.window
