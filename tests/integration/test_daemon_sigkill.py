"""SIGKILL the real daemon at random points while it saves its state, 100 times: the state always loads."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

from tests.harness.bus import PrivateBus
from tests.harness.daemon import DaemonProcess
from tests.harness.tmux import TmuxTestServer
from tmux_orc.core.statefile import StateStore

STANDIN = str(Path(__file__).resolve().parents[1] / "harness" / "bin" / "claude")
KILLS = 100


def test_state_always_loads_after_sigkill(tmux_srv: TmuxTestServer, session_bus: PrivateBus, tmp_path: Path) -> None:
    tmux_srv.new_session("team", "Claude-pm", f"bash --norc -c '{STANDIN} working; exec bash'")
    for n in range(6):  # animating agents: the state (last activity) changes, so every cycle writes
        tmux_srv.new_window("team", f"Claude-dev{n}", f"bash --norc -c '{STANDIN} working; exec bash'")
    rng = random.Random(20261125)
    d = DaemonProcess(session_bus.address, tmux_srv.socket, tmp_path, interval=0.1, log_level="warning")
    store = StateStore(d.state_dir)
    saved_agents = 0
    for _ in range(KILLS):
        d.start(wait=False)
        time.sleep(rng.uniform(0.25, 0.6))
        assert d.stop(signal.SIGKILL) == -signal.SIGKILL
        state = store.load()  # never raises; a torn file would be moved aside as corrupt
        saved_agents = max(saved_agents, len(state.agents))
        assert not list(d.state_dir.glob("state.json.corrupt-*")), "a SIGKILL left a torn state file"
    assert saved_agents == 7  # the daemon did get to save between kills
    assert not [p for p in d.state_dir.iterdir() if p.name != "state.json" and not p.name.startswith(".")]
