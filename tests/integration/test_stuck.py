"""Stuck, on real tmux: a frozen working screen is stuck past the threshold, unless a tool is busy."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tests.harness.daemon import DaemonProcess
from tests.harness.tmux import TmuxTestServer

STANDIN = str(Path(__file__).resolve().parents[1] / "harness" / "bin" / "claude")
STUCK_AFTER = 4.0


def test_stalled_stream_is_stuck_and_a_silent_build_is_not(
    tmux_srv: TmuxTestServer, daemon: Callable[..., DaemonProcess]
) -> None:
    tmux_srv.new_session("team", "Claude-reviewer", f"bash --norc --noprofile -c '{STANDIN} stalled; exec bash'")
    tmux_srv.new_window("team", "Claude-builder", f"bash --norc --noprofile -c '{STANDIN} tool; exec bash'")
    d = daemon(tmux_srv, stuck_after=STUCK_AFTER, interval=0.5)

    d.wait_state("team:0.0", "working")
    d.wait_state("team:1.0", "working")
    stalled = d.wait_state("team:0.0", "stuck", timeout=STUCK_AFTER + 20)
    assert "no tool busy" in stalled["detail"]
    why = d.call("Explain", "s", "team:0.0")[0]
    assert why["rule"] == "stuck.unchanged"

    # The builder's screen has been just as frozen all along; its tool keeps it working.
    started = time.monotonic()
    while time.monotonic() - started < STUCK_AFTER + 2:
        assert d.agent("team:1.0")["state"] == "working", d.call("Explain", "s", "team:1.0")[0]
        time.sleep(0.5)
    why = d.call("Explain", "s", "team:1.0")[0]
    assert why["facts"]["tool_cpu_seconds"] > 0.5, why
    assert why["observed_state"] == "working"
