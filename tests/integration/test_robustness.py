"""What a demanding user does to a daemon: odd panes, grouped sessions, request floods, bad state dirs."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tests.harness.bus import PrivateBus, wait_until
from tests.harness.daemon import DaemonProcess
from tests.harness.tmux import TmuxTestServer

STANDIN = str(Path(__file__).resolve().parents[1] / "harness" / "bin" / "claude")
StartDaemon = Callable[..., DaemonProcess]


def test_pm_window_running_something_else_is_never_replaced(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    # A PM reached through ssh, or a person running an editor there: no agent, but no shell either.
    pane = tmux_srv.new_session("team", "Claude-pm", "exec sleep 1000")
    d = daemon(tmux_srv, recovery_confirmations=1, recovery_grace=0)
    d.wait_state("team:0.0", "crashed")
    time.sleep(2.0)
    assert d.call("GetMetrics")[0]["recoveries_started"] == 0
    assert tmux_srv.run("list-panes", "-a", "-F", "#{pane_id}").split() == [pane]


def test_grouped_sessions_give_each_pane_once(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    tmux_srv.new_session("team", "Claude-pm", f"bash --norc -c '{STANDIN} idle; exec bash'")
    tmux_srv.run("new-session", "-d", "-t", "team", "-s", "teamview")  # a second view of the same windows
    assert len(tmux_srv.run("list-panes", "-a").splitlines()) == 2
    d = daemon(tmux_srv)
    d.wait_state("team:0.0", "idle")
    assert [a["id"] for a in d.agents()] == ["team:0.0"]


def test_a_flood_of_requests_does_not_speed_up_the_cycle(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    pane = tmux_srv.new_session("team", "Claude-pm", f"bash --norc -c '{STANDIN} idle; exec bash'")
    d = daemon(tmux_srv, interval=1.0)
    d.wait_state("team:0.0", "idle")
    before = d.call("GetStatus")[0]["cycles"]
    started = time.monotonic()
    while time.monotonic() - started < 2.0:
        d.call("ReportEvent", "ssa{sv}", pane, "PreToolUse", "0")
    cycles = d.call("GetStatus")[0]["cycles"] - before
    assert cycles <= 2.5 / 0.25 + 1, cycles  # never closer than the minimum gap (0.25 s at interval 1 s)


def test_unusable_state_dir_stops_the_daemon_with_exit_78(tmux_srv: TmuxTestServer, session_bus: PrivateBus,
                                                        tmp_path: Path) -> None:
    tmux_srv.new_session("team")
    elsewhere = tmp_path / "someone-elses.json"
    elsewhere.write_text("{}")
    d = DaemonProcess(session_bus.address, tmux_srv.socket, tmp_path)
    d.state_dir.mkdir(mode=0o700)
    (d.state_dir / "state.json").symlink_to(elsewhere)  # a state file that points elsewhere is refused
    d.start(wait=False)
    assert d.proc is not None and d.proc.wait(20) == 78
    assert "cannot use the state directory" in d.log()
    assert elsewhere.read_text() == "{}"  # nothing was written through the link


def test_second_instance_leaves_the_state_file_alone(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    tmux_srv.new_session("team", "Claude-pm", f"bash --norc -c '{STANDIN} idle; exec bash'")
    first = daemon(tmux_srv)
    first.wait_state("team:0.0", "idle")
    state = first.state_dir / "state.json"
    wait_until(state.exists, what="the first instance's state file")
    before = state.stat().st_mtime_ns
    first.call("Stop")  # no more cycles, so no more saves from the first instance
    time.sleep(0.5)
    before = state.stat().st_mtime_ns
    second = daemon(tmux_srv, wait=False)
    assert second.proc is not None and second.proc.wait(20) == 1
    assert state.stat().st_mtime_ns == before
