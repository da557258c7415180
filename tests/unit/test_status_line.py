"""The status line's forms, from ListAgents dicts (no bus)."""

from __future__ import annotations

import json

from tmux_orc.cli.main import build_parser
from tmux_orc.cli.status_line import down_marker, render_line, render_waybar, worst_state


def agents(*states: str) -> list[dict[str, str]]:
    return [{"target": f"team:{i}.0", "window": f"Claude-a{i}", "state": s, "detail": "d" if s == "error" else ""}
            for i, s in enumerate(states)]


def test_counts_in_urgency_order_then_totals() -> None:
    team = agents("idle", "working", "waiting_input", "crashed", "working", "rate_limited", "unsubmitted", "error")
    assert render_line(team) == "orc 1 crashed 1 error 1 limited 1 waiting 1 unsent · 2 working 1 idle"
    assert render_line(agents("idle", "idle")) == "orc 2 idle"
    assert render_line([]) == "orc 0 agents"
    assert render_line(agents("starting")) == "orc 1 agent"


def test_tmux_markup() -> None:
    line = render_line(agents("stuck", "working"), markup=True)
    assert line == "orc #[fg=magenta]1 stuck#[default] · #[fg=green]1 working#[default]"


def test_waybar_json() -> None:
    out = json.loads(render_waybar(agents("idle", "error", "waiting_input")))
    assert out["class"] == "error" and out["text"] == "orc 1 error 1 waiting · 1 idle"
    assert out["tooltip"] == "team:1.0 Claude-a1: error (d)\nteam:2.0 Claude-a2: waiting_input"
    assert json.loads(render_waybar(agents("idle")))["tooltip"] == "no agent needs attention"
    assert worst_state(agents("idle")) == "ok"
    assert json.loads(down_marker("waybar", False, "<why>"))["tooltip"] == "&lt;why&gt;"


def test_parser() -> None:
    args = build_parser().parse_args(["status-line", "--tmux", "--follow"])
    assert args.tmux and args.follow and args.format == "text"
    assert build_parser().parse_args(["status-line", "--format", "waybar"]).format == "waybar"
