"""Rendering of the daemon's answers: durations, the agents table, key/value reports, JSON."""

from __future__ import annotations

import json

import pytest
from dbus_fast import Variant

from tmux_orc.cli.render import (
    format_bytes,
    format_duration,
    format_since,
    format_value,
    render_agents_table,
    render_explanation,
    render_mapping,
    to_json,
    truncate,
)
from tmux_orc.cli.watch import render_frame
from tmux_orc.client import DaemonError, is_unreachable_error, to_plain

NOW = 1_700_000_000.0


def agent(target: str, state: str, since: float, detail: str = "", **extra: object) -> dict[str, object]:
    return {
        "id": target,
        "target": target,
        "session": target.split(":")[0],
        "window": "Claude-dev",
        "pane_id": "%1",
        "role": extra.get("role", "developer"),
        "kind": "claude",
        "state": state,
        "state_since": since,
        "detail": detail,
        "strategy": "polling",
    }


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (12.9, "12s"),
        (59, "59s"),
        (60, "1m"),
        (5 * 60 + 59, "5m"),
        (3599, "59m"),
        (3600, "1h"),
        (2 * 3600 + 1800, "2h"),
        (86399, "23h"),
        (86400 * 3, "3d"),
        (-5, "0s"),  # clock skew between daemon and client never shows a negative age
        (float("nan"), "0s"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_since() -> None:
    assert format_since(NOW - 300, NOW) == "5m"
    assert format_since(0, NOW) == "-"
    assert format_since(None, NOW) == "-"
    assert format_since("yesterday", NOW) == "-"
    assert format_since(True, NOW) == "-"


def test_truncate() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("exactly10!", 10) == "exactly10!"
    assert truncate("much longer than ten", 10) == "much long…"
    assert len(truncate("much longer than ten", 10)) == 10
    assert truncate("two\nlines\tand tab", 40) == "two lines and tab"
    assert truncate("anything", 0) == ""


def test_agents_table_columns_sorting_and_ages() -> None:
    agents = [
        agent("b:Claude-qa.0", "crashed", NOW - 7200, "shell in foreground", role="qa"),
        agent("a:Claude-pm.0", "idle", NOW - 12, role="pm"),
        agent("a:Claude-developer.0", "working", NOW - 300, "Forming… (5s)"),
    ]
    table = render_agents_table(agents, now=NOW, width=120).splitlines()
    assert table[0].split() == ["TARGET", "ROLE", "KIND", "STATE", "SINCE", "DETAIL"]
    assert [line.split()[0] for line in table[1:]] == [
        "a:Claude-developer.0",
        "a:Claude-pm.0",
        "b:Claude-qa.0",
    ]
    assert table[1].split()[1:5] == ["developer", "claude", "working", "5m"]
    assert table[2].split()[3:5] == ["idle", "12s"]
    assert table[3].split()[3:5] == ["crashed", "2h"]
    assert table[3].endswith("shell in foreground")
    # columns line up: each header starts where its cells start
    state_column = table[0].index("STATE")
    assert all(line[state_column:].split()[0] in {"STATE", "working", "idle", "crashed"} for line in table)


def test_agents_table_truncates_detail_to_terminal_width() -> None:
    long_detail = "API Error: Request rejected (429) · rate limit reached, resets at 3pm UTC " * 3
    table = render_agents_table([agent("s:Claude-dev.0", "rate_limited", NOW - 1, long_detail)], now=NOW, width=80)
    lines = table.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert lines[1].endswith("…")


def test_agents_table_keeps_a_readable_detail_on_narrow_terminals() -> None:
    table = render_agents_table([agent("s:Claude-dev.0", "error", NOW, "x" * 50)], now=NOW, width=20)
    assert "x" * 9 + "…" in table  # never cut below ten characters, even if the line overflows


def test_agents_table_empty() -> None:
    assert "no agents" in render_agents_table([], now=NOW, width=80)


def test_missing_fields_do_not_break_the_table() -> None:
    table = render_agents_table([{"target": "x:y.0"}], now=NOW, width=80)
    assert table.splitlines()[1].startswith("x:y.0")


def test_frame_has_clock_count_and_banner() -> None:
    frame = render_frame([agent("a:Claude-pm.0", "idle", NOW)], now=NOW, width=80, banner=["hello"])
    lines = frame.splitlines()
    assert lines[0] == "hello"
    assert "1 agent ·" in lines[1]
    assert "Ctrl-C" in lines[1]
    assert lines[3].startswith("TARGET")


def test_to_json_is_stable_and_plain() -> None:
    text = to_json({"b": 1, "a": ["✻", 2.5], "c": {"z": True, "y": None}})
    assert text == to_json(json.loads(text))
    assert list(json.loads(text)) == ["a", "b", "c"]
    assert "✻" in text  # readable, not \\u escapes


def test_to_plain_unpacks_dbus_values() -> None:
    value = {
        "running": Variant("b", True),
        "nested": Variant("a{sv}", {"n": Variant("t", 7)}),
        "list": Variant("as", ["a", "b"]),
        "struct": ("x", 1),
        "bytes": Variant("ay", b"hi"),
    }
    plain = to_plain(value)
    assert plain == {
        "running": True,
        "nested": {"n": 7},
        "list": ["a", "b"],
        "struct": ["x", 1],
        "bytes": "hi",
    }
    json.dumps(plain)


def test_render_mapping_orders_and_nests() -> None:
    text = render_mapping(
        {"version": "0.1.0", "running": True, "health": {"errors": 0, "p95": 12.345}, "sessions": []},
        order=("running", "version"),
    )
    lines = text.splitlines()
    assert lines[0].split() == ["running:", "yes"]
    assert lines[1].split() == ["version:", "0.1.0"]
    assert "health:" in lines[2]
    assert lines[3].split() == ["errors:", "0"] and lines[3].startswith("  ")
    assert lines[4].split() == ["p95:", "12.345"]
    assert lines[5].split() == ["sessions:", "(none)"]


def test_format_value_and_bytes() -> None:
    assert format_value(False) == "no"
    assert format_value(2.0) == "2"
    assert format_value(0.1234567) == "0.123"
    assert format_value(None) == "-"
    assert format_bytes(512) == "512 B"
    assert format_bytes(3 * 1024 * 1024) == "3.0 MiB"


def test_render_explanation() -> None:
    text = render_explanation(
        "%3",
        {
            "target": "team:1.0",
            "state": "waiting_input",
            "rule": "claude2.permission",
            "detail": "Do you want to proceed?",
            "evidence": ["Do you want to proceed?", "❯ 1. Yes"],
            "facts": {"kind": "claude", "agent_pid": 42},
            "observed_at": NOW - 3,
            "confirmations": 2,
        },
        now=NOW,
    )
    lines = text.splitlines()
    assert lines[0] == "team:1.0 is waiting_input"
    assert "claude2.permission" in lines[1]
    assert "    | ❯ 1. Yes" in lines
    assert any(line.split() == ["agent_pid:", "42"] for line in lines)
    assert any(line.split() == ["observed_at:", "3s", "ago"] for line in lines)


def test_error_names() -> None:
    error = DaemonError("org.tmuxorc.Monitor1.Error.NotFound", "no agent matches 'x'")
    assert error.short_name == "NotFound"
    assert is_unreachable_error("org.freedesktop.DBus.Error.ServiceUnknown")
    assert is_unreachable_error("org.freedesktop.DBus.Error.Spawn.ChildExited")
    assert is_unreachable_error("org.freedesktop.DBus.Error.NoReply")
    assert not is_unreachable_error("org.tmuxorc.Monitor1.Error.Failed")
    assert not is_unreachable_error("org.freedesktop.DBus.Error.UnknownMethod")


# --- stale states (a paused or blind daemon) ----------------------------------------------------------


def test_stale_reason_from_status() -> None:
    from tmux_orc.cli.render import stale_reason

    assert stale_reason({"running": True, "tmux_connected": True}) == ""
    assert stale_reason({}) == ""  # an older daemon without the keys: nothing to say
    assert "monitoring is paused" in stale_reason({"running": False, "tmux_connected": True})
    blind = stale_reason({"running": True, "tmux_connected": False, "tmux_error": "no tmux server answers at /s"})
    assert blind.startswith("no tmux server answers at /s") and "stale" in blind


def test_table_marks_stale_states_and_json_gets_a_key() -> None:
    from tmux_orc.cli.render import mark_stale

    agents = [agent("s:Claude-dev.0", "working", NOW - 5)]
    table = render_agents_table(agents, now=NOW, width=120, stale_note="monitoring is paused").splitlines()
    assert table[0] == "# monitoring is paused"
    assert "working (stale)" in table[2]
    assert mark_stale(agents, True)[0]["stale"] is True and "stale" not in agents[0]
    assert render_agents_table([], now=NOW, width=80, stale_note="paused").startswith("# paused\nno agents")
    assert "(stale)" not in render_agents_table(agents, now=NOW, width=120)


def test_no_tmux_message() -> None:
    from tmux_orc.cli.agents_cmds import no_tmux_message

    assert no_tmux_message({"tmux_connected": True}) == ""
    assert no_tmux_message({}) == ""
    message = no_tmux_message({"tmux_connected": False, "tmux_error": "no tmux server answers at /x"})
    assert message.startswith("error: no tmux server answers at /x") and "doctor" in message


def test_names_with_escape_sequences_are_shown_not_obeyed() -> None:
    """A session named with ESC, CSI (U+009B) or a bidi override reaches the terminal as text."""
    agent = {"target": "evil\x1b[2J:0", "role": "pm", "kind": "claude", "state": "idle",
             "state_since": 0, "detail": "a\x9b31mb\u202ec\x07"}
    table = render_agents_table([agent], now=0.0, width=200)
    assert "\x1b" not in table and "\x9b" not in table and "\u202e" not in table and "\x07" not in table
    assert "evil\\x1b[2J:0" in table
    assert "a\\x9b31mb\\u202ec\\x07" in table


def test_json_output_escapes_c1_and_bidi_controls() -> None:
    """JSON keeps the same strings, with C1 and bidi controls written as \\u escapes."""
    text = to_json({"target": "x\x9by\u202ez"})
    assert "\x9b" not in text and "\u202e" not in text
    assert json.loads(text) == {"target": "x\x9by\u202ez"}


def test_mapping_keys_and_values_are_printable() -> None:
    """Keys and values of key/value reports go through the same escaping."""
    text = render_mapping({"k\x1b": "v\x1b[1m"})
    assert "\x1b" not in text
