"""Nothing in a window name or a directory runs during recovery, and the new window keeps the name.

tmux format-expands ``new-window -n`` and ``-c`` (``#(...)`` runs a shell job) and ends a command at
an argument's trailing ``;``. The real daemon recovers a crashed PM from such a window; the command
builders are also driven directly against a private tmux server with any name and directory.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.harness.bus import wait_until
from tests.harness.daemon import DaemonProcess
from tests.harness.signals import SignalRecorder
from tests.harness.tmux import TmuxTestServer
from tests.hostile.strategies import STANDIN, hostile_window_names, injection, shell_running, tmux_value
from tmux_orc.tmux import commands
from tmux_orc.tmux.quoting import format_arg, literal_arg

StartDaemon = Callable[..., DaemonProcess]




def slashless_injection(marker: Path) -> str:
    """``#(...)`` creating ``marker``, written without ``/`` so it fits in one directory name."""
    octal = str(marker).replace("/", "\\057")
    return f"#(touch \"$(printf '{octal}')\")"




def window_names(srv: TmuxTestServer) -> list[str]:
    """Each window's name, one ``display-message`` per window (so any name comes back whole)."""
    ids = srv.run("list-windows", "-a", "-F", "#{window_id}").split()
    return [tmux_value(srv, wid, "window_name") for wid in ids]


def crash_and_recover(srv: TmuxTestServer, daemon: StartDaemon, name: str, start_dir: Path | None) -> Any:
    """A PM window ``name`` (in ``start_dir``) whose agent exits; the daemon's RecoveryFinished."""
    args = ["new-session", "-d", "-s", "team", "-n", format_arg(name), "-x", "120", "-y", "40"]
    if start_dir is not None:
        args += ["-c", format_arg(str(start_dir))]
    srv.run(*args, literal_arg(shell_running(f"{STANDIN} exit-after 1")))
    assert window_names(srv) == [name]
    d = daemon(srv, pm_spawn_command=f"{STANDIN} idle", recovery_confirmations=2, recovery_grace=1,
               starting_after=15)
    with SignalRecorder(d.address) as signals:
        finished = signals.wait_for("RecoveryFinished", timeout=40)
    assert finished[2] is True, (finished, d.log()[-3000:])
    wait_until(lambda: [a for a in d.agents() if a["role"] == "pm" and a["state"] == "idle"], timeout=20,
               what="the new PM idle")
    return d


def test_shell_job_in_pm_window_name_does_not_run_on_recovery(tmux_srv: TmuxTestServer, daemon: StartDaemon,
                                                              tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    name = f"Claude-pm {injection(str(marker))} #{{pane_id}} #W"
    d = crash_and_recover(tmux_srv, daemon, name, None)
    assert window_names(tmux_srv) == [name]  # the crashed pane is gone, the new window has the same name
    wait_until(lambda: [a["window"] for a in d.agents()] == [name], what="only the new PM listed")
    time.sleep(1.0)  # a #() job runs in the background: give one a chance to show
    assert not marker.exists()


def test_shell_job_in_pm_directory_does_not_run_on_recovery(tmux_srv: TmuxTestServer, daemon: StartDaemon,
                                                            tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    start_dir = tmp_path / f"d{slashless_injection(marker)}#{{pane_id}}"
    start_dir.mkdir()
    crash_and_recover(tmux_srv, daemon, "Claude-pm", start_dir)
    [pane] = tmux_srv.run("list-panes", "-a", "-F", "#{pane_id}").split()
    assert tmux_value(tmux_srv, pane, "pane_current_path") == str(start_dir)
    time.sleep(1.0)
    assert not marker.exists()


def test_pm_window_whose_name_ends_in_a_semicolon_is_recovered(tmux_srv: TmuxTestServer, daemon: StartDaemon,
                                                               tmp_path: Path) -> None:
    name = "Claude-pm \\;"  # ends in ';' after a backslash: the hardest spelling of it
    crash_and_recover(tmux_srv, daemon, name, tmp_path)
    assert window_names(tmux_srv) == [name]


@pytest.fixture(scope="module")
def shared_srv() -> Iterator[TmuxTestServer]:
    with tempfile.TemporaryDirectory(prefix="tmux-orc-inject-") as directory:
        srv = TmuxTestServer(Path(directory))
        srv.new_session("base")
        yield srv
        srv.kill()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=hostile_window_names("{marker}"), leaf=hostile_window_names())
def test_new_window_builder_keeps_any_name_and_directory(shared_srv: TmuxTestServer, name: str, leaf: str) -> None:
    srv = shared_srv
    with tempfile.TemporaryDirectory(prefix="tmux-orc-dir-") as directory:
        marker = Path(directory) / "ran"
        name = name.replace("{marker}", str(marker))
        start_dir = Path(directory) / (leaf.replace("/", "\\057").replace(".", "_") + slashless_injection(marker))
        start_dir.mkdir()
        sid = tmux_value(srv, "base:", "session_id")
        argv = commands.new_window(sid, "base", name, str(start_dir), "exec sleep 60;")
        out = subprocess.run(["tmux", "-S", str(srv.socket), *argv], capture_output=True, env=srv.env,
                             timeout=20, check=True).stdout.decode()
        pane = out.split()[0]
        try:
            assert tmux_value(srv, pane, "window_name") == name
            assert tmux_value(srv, pane, "pane_current_path") == str(start_dir)
            time.sleep(0.05)
            assert not marker.exists()
        finally:
            srv.run(*commands.kill_pane(pane), check=False)
