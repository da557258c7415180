"""Stuck, on real tmux: a frozen working screen is stuck past the threshold, unless a tool below the
agent is busy on the CPU, and then only up to the cap; a stuck agent whose tool gets busy works again."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tests.harness.daemon import DaemonProcess
from tests.harness.tmux import TmuxTestServer
from tmux_orc.detect.engine import TOOL_CAP

STANDIN = str(Path(__file__).resolve().parents[1] / "harness" / "bin" / "claude")
STUCK_AFTER = 5.0
TOOL_AFTER = 9.0  # seconds before the third agent's tool starts: it is stuck by then


def test_stalled_stuck_silent_build_working_until_the_cap(
    tmux_srv: TmuxTestServer, daemon: Callable[..., DaemonProcess]
) -> None:
    def agent(mode: str) -> str:
        return f"bash --norc --noprofile -c '{STANDIN} {mode}; exec bash'"

    tmux_srv.new_session("team", "Claude-reviewer", agent("stalled"))
    tmux_srv.new_window("team", "Claude-builder", agent("tool"))
    tmux_srv.new_window("team", "Claude-tester", agent(f"tool-after {TOOL_AFTER}"))
    d = daemon(tmux_srv, stuck_after=STUCK_AFTER, interval=0.5)
    began = time.monotonic()

    stalled = d.wait_state("team:0.0", "stuck", timeout=STUCK_AFTER + 20)
    assert "tools idle" in stalled["detail"]
    assert d.call("Explain", "s", "team:0.0")[0]["rule"] == "stuck.unchanged"

    # The builder's screen has been just as frozen all along; its tool keeps it working.
    while time.monotonic() - began < STUCK_AFTER + 3:
        assert d.agent("team:1.0")["state"] == "working", d.call("Explain", "s", "team:1.0")[0]
        time.sleep(0.5)
    why = d.call("Explain", "s", "team:1.0")[0]
    assert why["observed_at"] - why["unchanged_since"] >= STUCK_AFTER, why  # frozen past the threshold
    assert why["facts"]["tool_cpu_seconds"] > 0.5 and why["facts"]["tool_cpu_share"] >= 0.1, why
    assert "silent tool is busy" in d.agent("team:1.0")["detail"]

    # The tester was stuck before its tool started; the tool brings it back to working.
    assert d.wait_state("team:2.0", "stuck", timeout=STUCK_AFTER + 20)["state"] == "stuck"
    d.wait_state("team:2.0", "working", timeout=TOOL_AFTER + 15)

    # However busy, a screen frozen for TOOL_CAP thresholds is stuck.
    capped = d.wait_state("team:1.0", "stuck", timeout=TOOL_CAP * STUCK_AFTER + 20)
    assert f"over {TOOL_CAP}x" in capped["detail"]
