"""``tmux-orc status-line`` against the real daemon on a private bus, and in a real tmux status bar."""

from __future__ import annotations

import json
import os
import select
import shlex
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.harness.bus import PrivateBus, wait_until
from tests.harness.daemon import TMUX_ORC, DaemonProcess
from tests.harness.tmux import TmuxTestServer

STANDIN = str(Path(__file__).resolve().parents[1] / "harness" / "bin" / "claude")
StartDaemon = Callable[..., DaemonProcess]


def team(tmux_srv: TmuxTestServer) -> str:
    """A PM at its prompt, a developer that crashes, a QA whose stream stalled; returns the PM's pane."""
    pm = tmux_srv.new_session("team", "Claude-pm", f"bash --norc --noprofile -c '{STANDIN} idle; exec bash --norc'")
    tmux_srv.new_window("team", "Claude-developer",
                        f"bash --norc --noprofile -c '{STANDIN} exit-after 2; exec bash --norc'")
    tmux_srv.new_window("team", "Claude-qa", f"bash --norc --noprofile -c '{STANDIN} stalled; exec bash --norc'")
    return pm


def settled(d: DaemonProcess) -> None:
    d.wait_state("team:1.0", "crashed", timeout=30)
    d.wait_state("team:2.0", "stuck")
    d.wait_state("team:0.0", "idle")


def test_one_line_plain_tmux_and_waybar(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    team(tmux_srv)
    d = daemon(tmux_srv, stuck_after=3, notify_pm="false")
    settled(d)
    plain = d.cli("status-line")
    assert plain.returncode == 0 and plain.stdout == "orc 1 crashed 1 stuck · 1 idle\n", plain
    marked = d.cli("status-line", "--tmux").stdout.strip()
    assert marked == "orc #[fg=red,bold]1 crashed#[default] #[fg=magenta]1 stuck#[default] · 1 idle"
    waybar = json.loads(d.cli("status-line", "--format", "waybar").stdout)
    assert waybar["text"] == "orc 1 crashed 1 stuck · 1 idle" and waybar["class"] == "crashed"
    assert "team:1.0 Claude-developer: crashed" in waybar["tooltip"]
    assert "team:2.0 Claude-qa: stuck" in waybar["tooltip"]


def test_in_a_real_tmux_status_bar(tmux_srv: TmuxTestServer, daemon: StartDaemon, session_bus: PrivateBus,
                                   tmp_path: Path) -> None:
    team(tmux_srv)
    d = daemon(tmux_srv, stuck_after=3, notify_pm="false")
    settled(d)
    command = (f"env DBUS_SESSION_BUS_ADDRESS={shlex.quote(session_bus.address)} {TMUX_ORC} status-line --tmux")
    for option, value in (("status-right", f"#({command})"), ("status-right-length", "80"),
                          ("status-interval", "1")):
        tmux_srv.run("set-option", "-g", option, value)
    # A terminal attached to the team's server, inside a pane of a second server: its bottom line
    # is the team server's status bar, as tmux draws it.
    (tmp_path / "outer").mkdir()
    outer = TmuxTestServer(tmp_path / "outer")
    viewer = f"env -u TMUX TERM=screen tmux -S {tmux_srv.socket} attach -t team"

    def status_bar() -> str:
        lines = outer.capture(pane).rstrip("\n").splitlines()
        return lines[-1] if lines and "orc 1 crashed" in lines[-1] else ""

    try:
        pane = outer.new_session("viewer", "viewer", viewer)
        line = wait_until(status_bar, timeout=30, what="the status line in tmux's status bar")
    finally:
        outer.kill()
    assert "orc 1 crashed 1 stuck · 1 idle" in line and "#[" not in line, line


def test_follow_prints_a_line_on_each_change(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    pm = team(tmux_srv)
    d = daemon(tmux_srv, stuck_after=3, notify_pm="false")
    settled(d)
    proc = subprocess.Popen([TMUX_ORC, "status-line", "--follow"], env=d.env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = _read_line(proc, 20)
        assert first == "orc 1 crashed 1 stuck · 1 idle"
        tmux_srv.send_keys(pm, "-l", "draft")  # the PM's prompt holds typed text: unsubmitted
        second = _read_line(proc, 30)
        assert second == "orc 1 crashed 1 stuck 1 unsent · 3 agents", second
    finally:
        proc.terminate()
        proc.wait(10)


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "no line from status-line --follow"
    return proc.stdout.readline().rstrip("\n")


def test_unreachable_daemon_prints_a_marker_and_exits_3(session_bus: PrivateBus, tmp_path: Path) -> None:
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=session_bus.address)  # a bus with no daemon on it
    for args, marker in ((["--plain"], "orc down"), (["--tmux"], "#[fg=red]orc down#[default]")):
        proc = subprocess.run([TMUX_ORC, "status-line", *args], env=env, capture_output=True, text=True, timeout=30)
        assert proc.returncode == 3 and proc.stdout == marker + "\n", proc
        assert "Traceback" not in proc.stderr
    proc = subprocess.run([TMUX_ORC, "status-line", "--format", "waybar"], capture_output=True, text=True,
                          env=dict(env, DBUS_SESSION_BUS_ADDRESS=f"unix:path={tmp_path}/no-bus"), timeout=30)
    assert proc.returncode == 3 and json.loads(proc.stdout)["class"] == "down"


def test_how_long_one_run_takes(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    """A figure, not an assertion: tmux runs the command every status-interval."""
    team(tmux_srv)
    d = daemon(tmux_srv, stuck_after=3, notify_pm="false")
    settled(d)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        assert d.cli("status-line").returncode == 0
        times.append((time.perf_counter() - started) * 1000)
    print(f"status-line run: median {sorted(times)[2]:.0f} ms, max {max(times):.0f} ms (process start included)")


def test_follow_says_down_while_the_daemon_is_away_and_carries_on(tmux_srv: TmuxTestServer,
                                                                   daemon: StartDaemon) -> None:
    team(tmux_srv)
    d = daemon(tmux_srv, stuck_after=3, notify_pm="false")
    settled(d)
    proc = subprocess.Popen([TMUX_ORC, "status-line", "--follow", "--tmux"], env=d.env, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert "1 crashed" in _read_line(proc, 20)
        d.stop()
        assert _read_line(proc, 20) == "#[fg=red]orc down#[default]"
        again = daemon(tmux_srv, stuck_after=3, notify_pm="false")
        settled(again)
        lines = [_read_line(proc, 30)]
        while "1 crashed" not in lines[-1] and len(lines) < 10:  # states settling after the restart
            lines.append(_read_line(proc, 30))
        assert "1 crashed" in lines[-1] and proc.poll() is None, lines
    finally:
        proc.terminate()
        proc.wait(10)
