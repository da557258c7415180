"""Signals and rivals: 50 SIGHUPs in a second, and 5 daemons racing for the bus name."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from tests.harness.bus import PrivateBus, name_has_owner, wait_until
from tests.harness.daemon import DaemonProcess
from tests.harness.tmux import TmuxTestServer
from tests.hostile.faults_helpers import STANDIN
from tmux_orc.core.statefile import StateStore

StartDaemon = Callable[..., DaemonProcess]
SIGHUPS = 50
RIVALS = 5
RACES = 2


def test_fifty_sighups_in_a_second_reload_and_keep_the_daemon(tmux_srv: TmuxTestServer, daemon: StartDaemon,
                                                              tmp_path: Path) -> None:
    tmux_srv.new_session("team", "Claude-pm", f"bash --norc -c '{STANDIN} idle; exec bash'")
    d = daemon(tmux_srv)
    d.wait_state("team:0.0", "idle")
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rules]]\nkind = "claude"\nname = "mine.auto-mode"\nstate = "waiting_input"\n'
                     'pattern = "auto mode on"\nregion = "footer"\n')
    config = tmp_path / "config" / "tmux-orc" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f"rules_file = {json.dumps(str(rules))}\n")
    assert d.proc is not None
    started = time.monotonic()
    for _ in range(SIGHUPS):
        os.kill(d.proc.pid, signal.SIGHUP)
        time.sleep(0.9 / SIGHUPS)
    assert time.monotonic() - started < 5  # (the burst itself, not a measure of the daemon)
    wait_until(lambda: "settings reloaded" in d.log(), timeout=20, what="a reload")
    pane = tmux_srv.run("list-panes", "-t", "team", "-F", "#{pane_id}").strip()
    tmux_srv.send_keys(pane, "x")  # a new screen (an unchanged one is not read again); the rule comes first
    agent = d.wait_state("team:0.0", "waiting_input")  # the reloaded rules are in force
    assert d.call("Explain", "s", "team:0.0")[0]["rule"] == "mine.auto-mode", agent
    assert d.proc.poll() is None and d.call("GetStatus")[0]["running"] is True
    log = d.log()
    assert "reload failed" not in log and "Traceback" not in log


def _rival(bus: PrivateBus, tmux: TmuxTestServer, directory: Path, state_dir: Path) -> DaemonProcess:
    d = DaemonProcess(bus.address, tmux.socket, directory)
    d.state_dir = state_dir
    d.env["TMUX_ORC_STATE_DIR"] = str(state_dir)
    return d


def test_five_daemons_racing_for_the_name(tmux_srv: TmuxTestServer, tmp_path: Path) -> None:
    tmux_srv.new_session("team", "Claude-pm", f"bash --norc -c '{STANDIN} idle; exec bash'")
    state_dir = tmp_path / "state"
    bus = PrivateBus()  # its own bus: the name is free at the start of each race
    try:
        for race in range(RACES):
            rivals = [_rival(bus, tmux_srv, tmp_path / f"race{race}-{n}", state_dir) for n in range(RIVALS)]
            for d in rivals:
                d.log_path.parent.mkdir(parents=True, exist_ok=True)
            for d in rivals:
                d.start(wait=False)
            try:
                wait_until(lambda racing=rivals: sum(d.proc is not None and d.proc.poll() is not None
                                                     for d in racing) == RIVALS - 1,
                           timeout=60, what="all but one rival to exit")
                codes = sorted(d.proc.returncode for d in rivals if d.proc is not None
                               and d.proc.returncode is not None)
                assert codes == [1] * (RIVALS - 1), [d.log() for d in rivals]
                winner = next(d for d in rivals if d.proc is not None and d.proc.poll() is None)
                assert name_has_owner(bus.address)
                wait_until(lambda w=winner: w.call("GetStatus")[0]["cycles"] >= 2, timeout=30, what="cycles")
                for loser in (d for d in rivals if d is not winner):
                    assert "another tmux-orcd already owns" in loser.log() and "Traceback" not in loser.log()
            finally:
                for d in rivals:
                    d.stop()
            wait_until(lambda: not name_has_owner(bus.address), timeout=20, what="the name to be free")
            state = StateStore(state_dir).load()
            assert "team:0.0" in state.agents
            assert not list(state_dir.glob("state.json.corrupt-*"))
            assert not list(state_dir.glob(".state.json.tmp-*"))
    finally:
        bus.stop()
