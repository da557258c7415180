"""The quoting helpers against models of tmux 3.3a's argument splitting and format expansion.

The models follow tmux's source (``cmd_parse_from_arguments``, ``format_expand1``); the hostile suite
checks the same helpers against the real tmux.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.hostile.strategies import hostile_text
from tmux_orc.tmux import commands
from tmux_orc.tmux.quoting import format_arg, literal_arg, literal_format, pane_target, quote, session_target

ANY_TEXT = st.one_of(st.text(), hostile_text())


class Expands(Exception):
    """The format would run a job or insert a value."""


def split_arg(arg: str) -> tuple[str, bool]:
    """One argv argument as tmux splits it: (its value, whether it ends the command)."""
    if arg.endswith(";"):
        body = arg[:-1]
        if body.endswith("\\"):
            return body[:-1] + ";", False
        return body, True
    return arg, False


def expand(fmt: str) -> str:
    """tmux's expansion of a format, for formats that should hold nothing to expand."""
    out: list[str] = []
    i = 0
    while i < len(fmt):
        if fmt[i] != "#":
            out.append(fmt[i])
            i += 1
            continue
        nxt = fmt[i + 1] if i + 1 < len(fmt) else ""
        if nxt == "" or nxt in "({" or (nxt.isascii() and nxt.isalpha()):
            raise Expands(fmt[i:i + 2])
        if nxt == "#":
            j = i + 1
            while j < len(fmt) and fmt[j] == "#":
                j += 1
            if j < len(fmt) and fmt[j] == "[":  # a run of #s before [ is a style: copied as it is
                out.append(fmt[i:j + 1])
                i = j + 1
                continue
            out.append("#")
        elif nxt in "},":
            out.append(nxt)
        else:
            out.append("#" + nxt)
        i += 2
    return "".join(out)


def test_models_agree_with_what_tmux_does() -> None:
    with pytest.raises(Expands):
        expand("a#(touch x)")
    with pytest.raises(Expands):
        expand("#{pane_id}")
    assert expand("##[fg=red]") == "##[fg=red]" and expand("#[x") == "#[x" and expand("##") == "#"
    assert split_arg("pm;") == ("pm", True) and split_arg("pm\\;") == ("pm;", False)


def test_literal_format_examples() -> None:
    assert literal_format("Claude-pm #(touch /tmp/x)") == "Claude-pm ##(touch /tmp/x)"
    assert literal_format("#{pane_id}#W#") == "##{pane_id}##W##"
    assert literal_format("#[fg=red]##[bold]") == "#[fg=red]##[bold]"
    assert literal_format("no hash") == "no hash"


def test_literal_arg_examples() -> None:
    assert literal_arg("Claude-pm;") == "Claude-pm\\;"
    assert literal_arg(";") == "\\;"
    assert literal_arg("a\\;") == "a\\\\;"
    assert literal_arg("a;b") == "a;b"
    assert format_arg("#;") == "##\\;"


@given(ANY_TEXT)
def test_literal_format_expands_to_the_text_itself(text: str) -> None:
    assert expand(literal_format(text)) == text


@given(ANY_TEXT)
def test_literal_arg_is_one_whole_argument(text: str) -> None:
    assert split_arg(literal_arg(text)) == (text, False)


@given(ANY_TEXT)
def test_format_arg_is_split_then_expanded_back_to_the_text(text: str) -> None:
    value, ends = split_arg(format_arg(text))
    assert not ends and expand(value) == text


def test_quote_makes_one_plain_word() -> None:
    assert quote("") == "''"
    assert quote("$HOME ~ ; #x") == "'$HOME ~ ; #x'"
    assert quote("a'b\nc") == "'a'\"'\"'b'\"\\012\"'c'"


def test_targets_are_ids_only() -> None:
    assert pane_target("%12") == "%12"
    for bad in ("%", "%1 ", "team:0.0", "%1;", "=%1", "-t"):
        with pytest.raises(ValueError):
            pane_target(bad)
    assert session_target("$3", "team*") == "$3:"
    assert session_target("", "team*") == "=team*:"
    with pytest.raises(ValueError):
        session_target("", "")


def test_new_window_argv() -> None:
    argv = commands.new_window("$1", "team", "Claude-pm #(x);", "/d#(y)", "claude; exec sh;")
    assert argv == ["new-window", "-d", "-P", "-F", commands.NEW_PANE_FORMAT, "-t", "$1:",
                    "-n", "Claude-pm ##(x)\\;", "-c", "/d##(y)", "--", "claude; exec sh\\;"]
    assert "-c" not in commands.new_window("$1", "team", "w", "", "c")


def test_display_value_and_one_value() -> None:
    assert commands.display_value("%3", "pane_current_path") == [
        "display-message", "-p", "-t", "%3", "#{pane_current_path}"]
    with pytest.raises(ValueError):
        commands.display_value("%3", "x}#(id)")
    assert commands.one_value("/a dir \n") == "/a dir "
    assert commands.one_value("two\nlines\n") == "two\nlines"
    assert commands.one_value("") == ""
    assert commands.kill_pane("%4") == ["kill-pane", "-t", "%4"]
