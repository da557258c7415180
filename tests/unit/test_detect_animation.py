"""same_but_animation: a capture that moved only in spinner frames and clocks has the same progress
text in every agent's layout, found without reading the layout; when unsure it says so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tmux_orc.detect.animation import is_spinner_glyph, same_but_animation
from tmux_orc.detect.profiles import DEFAULT_PROFILES
from tmux_orc.detect.screen import ScreenShape, read_layout

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
SCREENS = sorted(p.read_text() for p in CORPUS.glob("*/*.txt"))
SHAPES = [ScreenShape(), *(p.shape for p in DEFAULT_PROFILES.by_kind.values())]
STREAMING = (CORPUS / "claude-2x" / "working-real-streaming.txt").read_text()
SPINNER = "✻ Prestidigitating… (2s · ↓ 4 tokens)"


def test_a_turned_frame_and_a_ticking_clock_are_animation() -> None:
    assert SPINNER in STREAMING
    assert same_but_animation(STREAMING, STREAMING.replace(SPINNER, "✶ Prestidigitating… (13s · ↓ 4 tokens)"))
    assert same_but_animation(STREAMING, STREAMING.replace(SPINNER, "⠙ Prestidigitating… (1m 2s · ↓ 4 tokens)"))


@pytest.mark.parametrize("line", [
    "✻ Prestidigitating… (2s · ↓ 5 tokens)",  # a token came: progress
    "✻ Prestidigitating… (2s · ↓ 4 tokens) extra",  # other text
    "❯ Prestidigitating… (2s · ↓ 4 tokens)",  # a cursor in front: a menu or a prompt
    "* Prestidigitating… (2s · ↓ 4 tokens)",  # an ASCII glyph: not sure
    "",  # gone
])
def test_anything_else_is_not(line: str) -> None:
    assert not same_but_animation(STREAMING, STREAMING.replace(SPINNER, line))


def test_unsure_cases() -> None:
    assert not same_but_animation(STREAMING, STREAMING + "\nmore")  # another line count
    assert not same_but_animation(STREAMING, STREAMING.replace(SPINNER, "\x1b[1m✶ Prestidigitating… (3s · ↓ 4 tokens)"))
    assert not same_but_animation(STREAMING, STREAMING.replace(SPINNER, "✶ Prestidigitating…\r(3s · ↓ 4 tokens)"))
    assert not same_but_animation("⠋ x (1s)\n" * 80_000, "⠙ x (2s)\n" + "⠋ x (1s)\n" * 79_999)  # cut by size


def test_spinner_glyphs() -> None:
    assert all(is_spinner_glyph(ch) for ch in "⠋⠙✢✳✶✻✽·⏺◐●")
    assert not any(is_spinner_glyph(ch) for ch in "❯›>*|-a1 │╭─")


LEADS = st.sampled_from("⠋⠙✢✶✻·⏺●◐❯›>*-a1 │╭─▣")
GLYPHS = st.sampled_from("⠋⠙✢✶✻·⏺●◐")
DIGITS = st.sampled_from("0123456789")


def _mutated(line: str, data: st.DataObject) -> str:
    """The line with its lead character and some digits changed: like animation (a spinner glyph for a
    glyph, digits inside parentheses only) or anyhow."""
    like_animation = data.draw(st.booleans())
    stripped = line.lstrip()
    if stripped and data.draw(st.booleans()):
        lead = data.draw(GLYPHS if like_animation else LEADS)
        line = line[: len(line) - len(stripped)] + lead + stripped[1:]

    def digits(text: str) -> str:
        return re.sub(r"\d", lambda m: data.draw(DIGITS) if data.draw(st.booleans()) else m.group(), text)

    if like_animation:
        return re.sub(r"\([^()]*\)", lambda m: digits(m.group()), line)
    return digits(line)


ANIMATED = [s for s in SCREENS if re.search(r"^\s*\S+ .*\(\d+s", s, re.M)]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(ANIMATED + SCREENS), st.data())
def test_it_never_says_so_when_the_progress_text_differs(screen: str, data: st.DataObject) -> None:
    """Soundness: whenever it says animation, every shape's progress text is the same."""
    lines = screen.split("\n")
    clocked = [i for i, line in enumerate(lines) if re.search(r"\(\d+s", line)]
    if clocked and data.draw(st.booleans()):
        index = data.draw(st.sampled_from(clocked))
    else:
        index = data.draw(st.integers(0, len(lines) - 1))
    changed = "\n".join([*lines[:index], _mutated(lines[index], data), *lines[index + 1 :]])
    if same_but_animation(screen, changed):
        for shape in SHAPES:
            assert read_layout(screen, shape).progress_text() == read_layout(changed, shape).progress_text(), shape
