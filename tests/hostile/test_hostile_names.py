"""Hostile session and window names and process names: listed exactly, watched, never run, never split.

Real tmux (private server), the real listing code on both paths (subprocess and control mode), and the
real daemon on a private bus for discovery, ``GetAgent`` and tmux restarts.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.harness.bus import wait_until
from tests.harness.daemon import DaemonProcess
from tests.harness.tmux import TmuxTestServer
from tests.hostile.strategies import (
    STANDIN,
    hostile_commands,
    hostile_window_names,
    injection,
    shell_running,
    tmux_value,
    with_argv0,
)
from tmux_orc.model import PaneInfo
from tmux_orc.tmux.concurrent import list_panes
from tmux_orc.tmux.control import ControlClient
from tmux_orc.tmux.polling import SubprocessPaneSource
from tmux_orc.tmux.quoting import format_arg, literal_arg

StartDaemon = Callable[..., DaemonProcess]

SESSIONS = ["s#(touch {m})", "semi;", "nl\nx", "tab\tq\x1fsep", "ünï ✓ 🚨"]
WINDOWS = ["Claude-dev #(touch {m})", "Claude-qa;", "Claude-dev\nnext", "Claude-ops\x1f%0A%", "Claude-rev ✓ #{pane_id}"]








def argv0_is(pid: int, argv0: str) -> bool:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return args[:2] == [argv0.encode(), b"600"]


async def both_listings(srv: TmuxTestServer) -> tuple[list[PaneInfo], list[PaneInfo]]:
    subprocess_rows = await SubprocessPaneSource(str(srv.socket), 5.0).list_panes()
    async with ControlClient(str(srv.socket)) as client:
        control_rows = await list_panes(client, 5.0)
    return subprocess_rows, control_rows


@pytest.fixture(scope="module")
def shared_srv() -> Iterator[TmuxTestServer]:
    """One private tmux server for the property test's many examples."""
    with tempfile.TemporaryDirectory(prefix="tmux-orc-hostile-") as directory:
        srv = TmuxTestServer(Path(directory))
        srv.new_session("base")
        yield srv
        srv.kill()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=hostile_window_names(), argv0=hostile_commands(), data=st.data())
def test_any_window_name_and_process_name_round_trip_on_both_paths(shared_srv: TmuxTestServer, name: str,
                                                                   argv0: str, data: st.DataObject) -> None:
    srv = shared_srv
    marker = Path(tempfile.gettempdir()) / f"tmux-orc-hostile-{time.monotonic_ns()}"
    name = name + data.draw(st.sampled_from(["", injection(str(marker))]))
    pane = srv.run("new-window", "-d", "-P", "-F", "#{pane_id}", "-t", "base:", "-n", format_arg(name),
                   literal_arg(with_argv0(argv0))).strip()
    try:
        wait_until(lambda: argv0_is(srv.pane_pid(pane), argv0), timeout=10, what="the pane's exec -a")
        assert tmux_value(srv, pane, "window_name") == name  # format_arg: tmux took the name as plain text
        command = tmux_value(srv, pane, "pane_current_command")
        for rows in asyncio.run(both_listings(srv)):
            assert len(rows) == 2, rows  # the base shell and this pane: no row more, no row less
            row = next(r for r in rows if r.pane_id == pane)
            assert (row.window_name, row.current_command, row.session) == (name, command, "base")
        assert not marker.exists()
    finally:
        srv.run("kill-pane", "-t", pane, check=False)


@pytest.mark.parametrize("stage", ["off", "full"])
def test_fifteen_hostile_names_listed_right_with_no_injection(tmux_srv: TmuxTestServer, daemon: StartDaemon,
                                                              tmp_path: Path, stage: str) -> None:
    marker = tmp_path / "ran"
    panes: list[str] = []
    for i, session in enumerate(SESSIONS):  # 5 sessions x 3 windows: 15 hostile names
        session = session.replace("{m}", str(marker))
        first = WINDOWS[i].replace("{m}", str(marker))
        panes.append(tmux_srv.run("new-session", "-d", "-P", "-F", "#{pane_id}", "-s", format_arg(session),
                                  "-n", format_arg(first), "-x", "120", "-y", "40",
                                  literal_arg(shell_running(f"{STANDIN} idle"))).strip())
        sid = tmux_value(tmux_srv, panes[-1], "session_id")
        for k in (1, 2):
            window = WINDOWS[(i + k) % len(WINDOWS)].replace("{m}", str(marker))
            panes.append(tmux_srv.run("new-window", "-d", "-P", "-F", "#{pane_id}", "-t", f"{sid}:",
                                      "-n", format_arg(window), literal_arg(shell_running(f"{STANDIN} idle"))).strip())
    d = daemon(tmux_srv, rollout_stage=stage, rollout_auto="false", auto_recover_pm="false")
    by_pane = wait_until(lambda: (lambda agents: agents if len(agents) == 15 and all(
        a["state"] == "idle" for a in agents.values()) else None)({a["pane_id"]: a for a in d.agents()}),
        timeout=40, what="15 agents idle")
    for pane in panes:
        agent = by_pane[pane]
        session, window = tmux_value(tmux_srv, pane, "session_name"), tmux_value(tmux_srv, pane, "window_name")
        index, pane_index = tmux_value(tmux_srv, pane, "window_index"), tmux_value(tmux_srv, pane, "pane_index")
        assert (agent["session"], agent["window"]) == (session, window)
        assert agent["target"] == f"{session}:{index}.{pane_index}"
        again = d.agent(pane)  # the same agent by its pane id (activity moves on between the two calls)
        assert {k: v for k, v in again.items() if k != "last_activity"} == {
            k: v for k, v in agent.items() if k != "last_activity"}
        assert d.agent(agent["id"])["pane_id"] == pane
    assert not marker.exists()
    assert "not a pane row" not in d.log() and "oddly" not in d.log()


def test_twenty_tmux_restarts_restore_every_state(tmux_srv: TmuxTestServer, daemon: StartDaemon,
                                                  tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    session, pm, dev = f"team {injection(str(marker))}", "Claude-pm;", "Claude-dev\n2"

    def start_team() -> None:
        tmux_srv.run("new-session", "-d", "-s", format_arg(session), "-n", format_arg(pm), "-x", "120", "-y", "40",
                     literal_arg(shell_running(f"{STANDIN} idle")))
        tmux_srv.run("new-window", "-d", "-t", "$0:", "-n", format_arg(dev), shell_running(f"{STANDIN} working"))

    start_team()
    d = daemon(tmux_srv, rollout_stage="full", rollout_auto="false", auto_recover_pm="false")
    pid = d.proc.pid if d.proc else None
    expected = {0: ("idle", pm), 1: ("working", dev)}

    def states() -> dict[int, tuple[str, str]] | None:
        agents = [a for a in d.agents() if a["session"] == session]
        seen = {int(a["target"].rsplit(":", 1)[1].split(".")[0]): (a["state"], a["window"]) for a in agents}
        return seen if seen == expected else None

    wait_until(states, timeout=30, what="the team's states")
    for _ in range(20):
        tmux_srv.kill()
        wait_until(lambda: not d.call("GetStatus")[0]["tmux_connected"] or not d.agents(), timeout=20,
                   what="the daemon to see tmux gone")
        start_team()
        wait_until(states, timeout=30, what="the team's states after a tmux restart")
    assert d.proc is not None and d.proc.poll() is None and d.proc.pid == pid
    # the control connection comes back too (its reconnect backoff is at most 30 s)
    wait_until(lambda: d.call("GetStatus")[0]["tmux_connected"], timeout=40, what="the control connection")
    assert not marker.exists()


def test_hostile_names_reach_the_listing_in_a_c_locale(tmux_srv: TmuxTestServer) -> None:
    """The control client asks tmux for UTF-8 (``-u``): a C locale does not turn names into ``_``."""
    name = "Claude-dév ✓\nx"
    pane = tmux_srv.new_session("team", "main")
    tmux_srv.run("new-window", "-d", "-t", "team:", "-n", format_arg(name))

    async def listing() -> list[PaneInfo]:
        async with ControlClient(str(tmux_srv.socket)) as client:
            return await list_panes(client, 5.0)

    env = {"LANG": "C", "LC_ALL": "C", "LC_CTYPE": "C"}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        rows = asyncio.run(listing())
    assert sorted(r.window_name for r in rows) == sorted([name, "main"])
    assert pane in {r.pane_id for r in rows}
