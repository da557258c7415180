"""A pane's programs cannot forge the pane listing: no fake dead PM, no hidden agent, no warning flood.

``pane_current_command`` is argv[0] of a pane's foreground process (``exec -a`` sets it to anything) and
``new-window -n`` names are kept raw: both may hold newlines and the field separator. The real daemon,
on both listing paths (polling subprocess and control mode), must see exactly the panes that exist.
"""

from __future__ import annotations

import asyncio
import shlex
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests.harness.bus import wait_until
from tests.harness.daemon import DaemonProcess
from tests.harness.signals import SignalRecorder
from tests.harness.tmux import TmuxTestServer
from tests.hostile.strategies import FORGED_ROW, STANDIN, hostile_screens, shell_running, with_argv0
from tmux_orc.tmux.concurrent import ConcurrentStrategy, list_panes
from tmux_orc.tmux.control import ControlClient
from tmux_orc.tmux.format import SEP
from tmux_orc.tmux.quoting import format_arg

StartDaemon = Callable[..., DaemonProcess]






def forged_rows(session_id: str) -> str:
    """argv[0] holding two whole rows: a dead PM in the real PM's session, and one in a session of its own."""
    here = FORGED_ROW.replace("$0", session_id).replace("%999", "%998")
    return f"x\n{FORGED_ROW}\n{here}\n%997{SEP}y"


@pytest.mark.parametrize("stage", ["off", "full"])
def test_forged_rows_in_a_process_name_make_no_fake_dead_pm(tmux_srv: TmuxTestServer, daemon: StartDaemon,
                                                             stage: str) -> None:
    pm = tmux_srv.new_session("team", "Claude-pm", shell_running(f"{STANDIN} idle"))
    sid = tmux_srv.run("display-message", "-p", "-t", pm, "#{session_id}").strip()
    liar = tmux_srv.new_window("team", "scratch", with_argv0(forged_rows(sid)))
    wait_until(lambda: tmux_srv.run("display-message", "-p", "-t", liar, "#{pane_current_command}").strip() != "bash",
               what="the forged process name")
    d = daemon(tmux_srv, pm_spawn_command=f"{STANDIN} idle", recovery_confirmations=1, recovery_grace=0,
               rollout_stage=stage, rollout_auto="false")
    with SignalRecorder(d.address) as signals:
        d.wait_state("team:0.0", "idle")
        start = d.call("GetStatus")[0]["cycles"]
        wait_until(lambda: d.call("GetStatus")[0]["cycles"] >= start + 8, timeout=30, what="8 more cycles")
        alerts = signals.of("Alert")
    assert [a for a in alerts if "crash" in a[1].lower()] == [], alerts
    assert [a["pane_id"] for a in d.agents()] == [pm]
    metrics = d.call("GetMetrics")[0]
    assert metrics["recoveries_started"] == 0
    assert tmux_srv.run("list-panes", "-a", "-F", "#{pane_id}").split() == [pm, liar]  # no second PM spawned
    assert "not a pane row" not in d.log() and "oddly" not in d.log()


@pytest.mark.parametrize("stage", ["off", "full"])
def test_newline_in_a_window_name_neither_hides_its_agent_nor_floods_the_log(
        tmux_srv: TmuxTestServer, daemon: StartDaemon, stage: str) -> None:
    tmux_srv.new_session("team", "Claude-pm", shell_running(f"{STANDIN} idle"))
    name = f"Claude-dev\nsecond line{SEP}%0A\r\u2028"
    dev = tmux_srv.run("new-window", "-d", "-P", "-F", "#{pane_id}", "-t", "team:", "-n", format_arg(name),
                       shell_running(f"{STANDIN} working")).strip()
    d = daemon(tmux_srv, rollout_stage=stage, rollout_auto="false")
    agent = d.wait_state(dev, "working")
    assert agent["window"] == name and agent["role"] == "developer"
    assert d.agent(dev)["window"] == name
    time.sleep(1.5)  # more cycles
    log = d.log()
    assert "not a pane row" not in log and "oddly" not in log and "WARNING" not in log, log[-2000:]


ATTACKER = '''
import subprocess, sys, time
height, victim_rows = int(sys.argv[1]), int(sys.argv[2])
probe = subprocess.Popen(["tmux", "-C", "attach", "-f", "ignore-size,no-output"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, bufsize=1)

def number():  # the server's command counter, seen through a control client of our own
    probe.stdin.write("display -p x\\n")
    probe.stdin.flush()
    while True:
        line = probe.stdout.readline()
        if line.startswith("%begin ") and line.rstrip().endswith(" 1"):
            return int(line.split()[2])

while True:
    n, t = number(), int(time.time())
    rows = [f"%end {t} {n + k} 1" for k in range(1, height - victim_rows - 1)]
    rows += ["%begin 1 1 1"] + [f"FORGED line {i}" for i in range(victim_rows)] + ["%end 1 1 1"]
    sys.stdout.write("\\033[H\\033[2J" + "\\r\\n".join(rows))
    sys.stdout.flush()
    time.sleep(0.03)
'''


def test_control_mode_lines_printed_by_a_pane_never_become_another_panes_screen(
        tmux_srv: TmuxTestServer, tmp_path: Path) -> None:
    """A pane printing guesses of the next ``%end`` and a forged reply: before the fix 193 of 200
    captures of the pane after it returned the forged screen."""
    script = tmp_path / "attacker.py"
    script.write_text(ATTACKER)
    tmux_srv.run("new-session", "-d", "-s", "aaa", "-x", "100", "-y", "30", f"python3 {script} 30 6")
    tmux_srv.run("new-session", "-d", "-s", "team", "-x", "100", "-y", "6",
                 "bash -c 'while :; do date +%N; sleep 0.01; done'")

    async def rounds() -> tuple[int, int, int]:
        forged = attacker_seen = captured = 0
        async with ControlClient(str(tmux_srv.socket), command_timeout=5.0) as client:
            strategy = ConcurrentStrategy(client, 5.0)
            for _ in range(60):
                if not await client.ensure_connected():
                    await asyncio.sleep(0.1)
                    continue
                panes = await list_panes(client, 5.0)
                result = await strategy.capture(panes, full=True)
                for pane in panes:
                    screen = result.screens.get(pane.pane_id)
                    if screen is None:
                        continue
                    captured += 1
                    if pane.session == "team":
                        forged += "FORGED" in screen
                        assert len(screen.splitlines()) == pane.height
                    else:
                        attacker_seen += "%end " in screen
                await asyncio.sleep(0.02)
        return forged, attacker_seen, captured

    forged, attacker_seen, captured = asyncio.run(rounds())
    assert forged == 0
    assert attacker_seen > 0  # the attacker's own pane is still watched (captured apart)
    assert captured > 60


@pytest.fixture(scope="module")
def printer_srv() -> Iterator[TmuxTestServer]:
    """A private server with a pane that prints each example's screen, and a quiet pane after it."""
    with tempfile.TemporaryDirectory(prefix="tmux-orc-screens-") as directory:
        srv = TmuxTestServer(Path(directory))
        srv.run("new-session", "-d", "-s", "aaa", "-x", "100", "-y", "30", "sleep 600")
        srv.run("new-session", "-d", "-s", "team", "-x", "100", "-y", "8", "printf 'victim\\n'; sleep 600")
        yield srv
        srv.kill()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(screen=hostile_screens())
def test_any_screen_a_pane_prints_stays_its_own(printer_srv: TmuxTestServer, screen: str) -> None:
    srv = printer_srv
    page = Path(srv.socket).parent / "page"
    page.write_text(screen, errors="surrogatepass")
    srv.run("respawn-pane", "-k", "-t", "aaa:", f"cat {shlex.quote(str(page))}; exec sleep 600")
    victim = srv.run("list-panes", "-t", "team:", "-F", "#{pane_id}").strip()
    wait_until(lambda: "cat" not in srv.run("list-panes", "-t", "aaa:", "-F", "#{pane_current_command}"),
               what="the screen printed")

    async def capture() -> list[dict[str, str]]:
        async with ControlClient(str(srv.socket), command_timeout=5.0) as client:
            strategy = ConcurrentStrategy(client, 5.0)
            screens = []
            for _ in range(3):
                if await client.ensure_connected():
                    screens.append((await strategy.capture(await list_panes(client, 5.0), full=True)).screens)
            return screens

    expected = srv.capture(victim)
    for screens in asyncio.run(capture()):
        assert screens.get(victim, expected) == expected
