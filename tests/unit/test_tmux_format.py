"""The list-panes format and its parser: any name or command comes back whole, and no value adds a row."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.hostile.strategies import FORGED_ROW, hostile_commands, hostile_window_names
from tmux_orc.model import PaneInfo
from tmux_orc.tmux import format as fmt
from tmux_orc.tmux.format import (
    PANE_FORMAT,
    SEP,
    decode_field,
    encode_field,
    parse_pane_line,
    parse_pane_listing,
)

TEXT = st.one_of(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
                 hostile_window_names(), hostile_commands())


def row(pane: PaneInfo) -> str:
    """The line tmux prints for ``pane`` with PANE_FORMAT (text fields escaped as tmux's s/// does)."""
    values = [pane.pane_id, str(pane.pane_pid), "1" if pane.dead else "0",
              "" if pane.dead_status is None else str(pane.dead_status), str(pane.window_index),
              str(pane.pane_index), str(pane.width), str(pane.height), str(int(pane.window_activity)),
              "1" if pane.in_mode else "0", pane.session_id, pane.window_id, encode_field(pane.current_command),
              encode_field(pane.session), encode_field(pane.window_name), encode_field(pane.title)]
    return SEP.join(values)


panes = st.builds(
    PaneInfo,
    pane_id=st.integers(0, 10**6).map(lambda n: f"%{n}"),
    session=TEXT, window_index=st.integers(0, 999), window_name=TEXT, pane_index=st.integers(0, 99),
    pane_pid=st.integers(1, 2**22), current_command=TEXT, dead=st.booleans(),
    dead_status=st.one_of(st.none(), st.integers(0, 255)), title=TEXT, width=st.integers(1, 500),
    height=st.integers(1, 200), window_activity=st.integers(0, 2**33).map(float),
    session_id=st.integers(0, 999).map(lambda n: f"${n}"), window_id=st.integers(0, 999).map(lambda n: f"@{n}"),
    in_mode=st.booleans(),
)


def test_text_fields_are_escaped_by_tmux_and_ids_are_not() -> None:
    assert PANE_FORMAT.count("s/%/%25/;s/\n/%0A/;s/\x1f/%1F/:") == len(fmt.TEXT_FIELDS)
    for name in fmt.TEXT_FIELDS:
        assert f"s/\x1f/%1F/:{name}}}" in PANE_FORMAT
    assert PANE_FORMAT.startswith("#{pane_id}" + SEP)
    assert "#(" not in PANE_FORMAT


@given(TEXT)
def test_encode_then_decode_is_the_identity(text: str) -> None:
    encoded = encode_field(text)
    assert "\n" not in encoded and SEP not in encoded
    assert decode_field(encoded) == text


def test_decode_examples() -> None:
    assert decode_field("a%0Ab%1Fc%25d") == "a\nb\x1fc%d"
    assert decode_field("%250A") == "%0A"  # an escaped % is never read as the start of another code
    assert decode_field("100% %zz %0a") == "100% %zz %0a"  # only tmux's own codes are decoded


@given(st.lists(panes, max_size=6))
def test_any_panes_round_trip_with_no_extra_rows(listed: list[PaneInfo]) -> None:
    text = "".join(row(p) + "\n" for p in listed)
    assert parse_pane_listing(text) == listed
    assert fmt.parse_pane_lines(text.split("\n")) == listed


def test_a_forged_row_inside_a_process_name_stays_inside_it() -> None:
    real = PaneInfo("%1", "team", 1, "scratch", 0, 42, f"x\n{FORGED_ROW}\n")
    listed = parse_pane_listing(row(real) + "\n")
    assert listed == [real]
    assert parse_pane_line(FORGED_ROW) is not None  # the row itself is well formed: only escaping stops it


def test_rows_split_at_newline_only() -> None:
    real = PaneInfo("%1", "s\r\x1c\x1d\x1e\x85\u2028\u2029s", 0, "w\x0b\x0cw", 0, 1, "c")
    assert parse_pane_listing(row(real) + "\n") == [real]


@pytest.mark.parametrize("bad", [
    "", "plain text", "%x" + SEP * 15, "1" + SEP * 15, SEP.join(["%1"] * 15), SEP.join(["%1"] * 17),
])
def test_lines_that_are_not_rows_are_refused(bad: str) -> None:
    assert parse_pane_line(bad) is None


def test_bad_ids_refuse_the_row() -> None:
    good = row(PaneInfo("%1", "s", 0, "w", 0, 1, "c", session_id="$1", window_id="@1"))
    assert parse_pane_line(good) is not None
    assert parse_pane_line(good.replace("$1", "team")) is None
    assert parse_pane_line(good.replace("@1", "@x")) is None


def test_odd_lines_are_warned_about_once_then_quietly(caplog: pytest.LogCaptureFixture,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fmt, "_last_warning", -fmt._WARN_EVERY)
    with caplog.at_level(logging.DEBUG, logger=fmt.__name__):
        for _ in range(5):
            assert parse_pane_listing("garbage\n\n") == []
    levels = [r.levelno for r in caplog.records]
    assert levels.count(logging.WARNING) == 1 and levels.count(logging.DEBUG) == 4


def test_rows_printed_again_are_the_same_objects() -> None:
    """PaneRows parses a row once: printed again unchanged it is the same PaneInfo; a changed row and
    a row that left and came back are parsed afresh; a broken-off listing leaves the last whole one."""
    one = PaneInfo(pane_id="%1", session="s", window_index=0, window_name="Claude-a", pane_index=0, pane_pid=10,
                   current_command="claude", session_id="$0", window_id="@0", title="⠋ a")
    two = replace(one, pane_id="%2", window_index=1, pane_pid=11, window_id="@1", title="")
    rows = fmt.PaneRows()
    first = rows.parse([row(one), "not a row", row(two)])
    rows.done()
    assert first == [one, two]
    changed = replace(one, title="⠙ a")
    second = rows.parse([row(changed), row(two)])
    rows.done()
    assert second[0] == changed and second[1] is first[1]
    third = rows.parse([row(one)])
    assert third == [one] and third[0] is not first[0]  # it left the listing: parsed again
    rows.forget()  # broken off: the last whole listing still counts
    assert rows.parse([row(two)])[0] is first[1]
