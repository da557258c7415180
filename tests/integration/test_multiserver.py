"""Every tmux server of the user, watched at once: two real servers under a private ``TMUX_TMPDIR``.

Server ``default`` (plain ``tmux``) and ``work`` (``tmux -L work``) each run a team in a session named
``team``, with the same pane ids (``%0``, ``%1``). The daemon (a subprocess on the private bus) is left
with ``tmux_socket`` unset: it finds both sockets itself, keeps the home server's ids as they always were
(``team:0.0``) and gives the other's its name (``work.team:0.0``); a server started later is picked up,
a killed one goes away, and a hook lands on the pane of the server it ran under.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness.bus import PrivateBus, wait_until
from tests.harness.daemon import TMUX_ORC, DaemonProcess
from tests.harness.signals import SignalRecorder
from tests.harness.tmux import TmuxTestServer
from tests.integration.test_alerts_recovery import shell_running
from tests.integration.test_dbus_service import STANDIN, team

PERMISSION = {"session_id": "s1", "hook_event_name": "Notification", "notification_type": "permission_prompt",
              "message": "Claude needs your permission to use Bash"}


class Servers:
    """tmux servers named like a user's, in a private socket directory ``$TMUX_TMPDIR/tmux-UID``."""

    def __init__(self, tmp: Path) -> None:
        self.tmpdir = tmp / "t"
        self.dir = self.tmpdir / f"tmux-{os.getuid()}"
        self.dir.mkdir(parents=True, mode=0o700)
        self.started: list[TmuxTestServer] = []

    def server(self, name: str) -> TmuxTestServer:
        srv = TmuxTestServer(self.dir)
        srv.socket = self.dir / name  # what `tmux -L name` uses under this TMUX_TMPDIR
        self.started.append(srv)
        return srv

    def kill_all(self) -> None:
        for srv in self.started:
            srv.kill()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    found = Servers(tmp_path)
    yield found
    found.kill_all()


@pytest.fixture
def start_daemon(session_bus: PrivateBus, tmp_path: Path, servers: Servers) -> Iterator[Any]:
    """Start tmux-orcd with ``tmux_socket`` unset (or as given) and ``TMUX_TMPDIR`` the private one."""
    started: list[DaemonProcess] = []

    def start(tmux_socket: str | None = None, **settings: Any) -> DaemonProcess:
        d = DaemonProcess(session_bus.address, Path("unused"), tmp_path, **settings)
        del d.env["TMUX_ORC_TMUX_SOCKET"]
        if tmux_socket is not None:
            d.env["TMUX_ORC_TMUX_SOCKET"] = tmux_socket
        d.env["TMUX_TMPDIR"] = str(servers.tmpdir)
        started.append(d)
        return d.start()

    yield start
    for d in started:
        assert d.stop() == 0, d.log()


def by_id(d: DaemonProcess) -> dict[str, dict[str, Any]]:
    return {a["id"]: a for a in d.agents()}


def wait_ids(d: DaemonProcess, *ids: str, timeout: float = 25.0) -> dict[str, dict[str, Any]]:
    return wait_until(lambda: (a if all(i in (a := by_id(d)) for i in ids) else None), timeout=timeout,  # type: ignore[no-any-return]
                      what=f"agents {ids}")


def run_hook(d: DaemonProcess, srv: TmuxTestServer, pane: str) -> subprocess.CompletedProcess[str]:
    env = {**d.env, "TMUX": f"{srv.socket},{srv.server_pid()},0", "TMUX_PANE": pane}
    return subprocess.run([TMUX_ORC, "hook", "Notification"], input=json.dumps(PERMISSION), env=env,
                          capture_output=True, text=True, timeout=30, check=False)


def hook_events(d: DaemonProcess, target: str) -> list[str]:
    return list(d.call("Explain", "s", target)[0]["hook_events"])


def test_two_servers_are_watched_with_their_names(servers: Servers, start_daemon: Any) -> None:
    home, work = servers.server("default"), servers.server("work")
    home_panes, work_panes = team(home), team(work)
    assert home_panes == work_panes  # the same %N on both servers
    d = start_daemon()
    d.wait_state("team:0.0", "idle")
    d.wait_state("work.team:1.0", "working")
    d.wait_state("work.team:0.0", "idle")
    d.wait_state("team:1.0", "working")
    agents = by_id(d)
    assert set(agents) == {"team:0.0", "team:1.0", "work.team:0.0", "work.team:1.0"}
    pm, other_pm = agents["team:0.0"], agents["work.team:0.0"]
    assert (pm["server"], other_pm["server"]) == ("default", "work")
    assert pm["target"] == "team:0.0" and other_pm["target"] == "work.team:0.0"
    assert other_pm["session"] == "team" and other_pm["pane_id"] == home_panes["pm"] == pm["pane_id"]
    # every target form, with the server named; the bare forms mean the home server's
    assert d.agent("work.team:Claude-pm")["id"] == "work.team:0.0"
    assert d.agent(f"work.{work_panes['dev']}")["id"] == "work.team:1.0"
    assert d.agent(home_panes["dev"])["id"] == "team:1.0"
    assert d.agent("team:Claude-pm")["server"] == "default"
    status = d.call("GetStatus")[0]
    assert status["tmux_connected"] is True and status["tmux_socket"] == ""
    shown = {s["name"]: s for s in status["tmux_servers"]}
    assert shown["default"]["connected"] and shown["work"]["connected"] and shown["work"]["panes"] == 3
    assert shown["work"]["socket"] == str(work.socket)
    props = d.call("Explain", "s", "work.team:0.0")[0]
    assert props["target"] == "work.team:0.0"
    table = d.cli("agents")
    assert table.returncode == 0 and "work.team:0.0" in table.stdout
    text = d.cli("monitor", "status")
    assert f"work ({work.socket}): 3 panes" in text.stdout, text.stdout
    assert doctor_tmux(d)["summary"] == "default (1 sessions), work (1 sessions)"


def doctor_tmux(d: DaemonProcess) -> dict[str, Any]:
    report = json.loads(d.cli("doctor", "--json", timeout=60).stdout)
    return next(c for c in report["checks"] if c["name"] == "tmux servers")  # type: ignore[no-any-return]


def test_servers_come_and_go_at_run_time(servers: Servers, start_daemon: Any) -> None:
    home = servers.server("default")
    team(home)
    d = start_daemon()
    d.wait_state("team:1.0", "working")
    late = servers.server("late")
    team(late)
    d.wait_state("late.team:0.0", "idle")  # found within a cycle or two of its socket appearing
    assert "tmux server late found" in d.log()
    late.kill()  # kill-server: its socket goes with it
    wait_until(lambda: not any(a["server"] == "late" for a in d.agents()), what="late's agents gone")
    # killed hard: the socket file stays, with no server answering; skipped, not an error
    gone = servers.server("gone")
    team(gone)
    d.wait_state("gone.team:0.0", "idle")
    pid = gone.server_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not any(a["server"] == "gone" for a in d.agents()), what="gone's agents gone")
    assert gone.socket.exists()
    status = d.call("GetStatus")[0]
    assert status["tmux_connected"] is True
    stale = {s["name"]: s for s in status["tmux_servers"]}["gone"]
    assert stale["connected"] is False and stale["error"]
    assert set(by_id(d)) == {"team:0.0", "team:1.0"}
    assert d.cli("agents").returncode == 0
    assert d.proc is not None and d.proc.poll() is None


def test_a_hook_lands_on_the_pane_of_its_own_server(servers: Servers, start_daemon: Any) -> None:
    home, work, other = servers.server("default"), servers.server("work"), servers.server("other")
    home_panes, work_panes = team(home), team(work)
    team(other)
    d = start_daemon("default, work")  # other is not watched
    d.wait_state("work.team:0.0", "idle")
    d.wait_state("team:0.0", "idle")
    assert not any(a["server"] == "other" for a in d.agents())
    done = run_hook(d, work, work_panes["pm"])  # work's %0
    assert (done.returncode, done.stderr) == (0, "")
    assert hook_events(d, "work.team:0.0")[0].startswith("Notification@")
    assert hook_events(d, "team:0.0") == []  # the home server's %0 never sees it
    refused = run_hook(d, other, home_panes["pm"])
    assert refused.returncode == 0 and "this daemon watches" in refused.stderr
    wait_until(lambda: "refused: it comes from tmux server" in d.log(), what="the refusal in the log")
    assert hook_events(d, "team:0.0") == []
    home_hook = run_hook(d, home, home_panes["pm"])
    assert (home_hook.returncode, home_hook.stderr) == (0, "")
    assert hook_events(d, "team:0.0")[0].startswith("Notification@")
    check = doctor_tmux(d)  # a server that runs but is not watched is named
    assert check["level"] == "warn" and "not watched (tmux_socket): other" in check["summary"], check


def test_a_crashed_pm_comes_back_on_its_own_server(servers: Servers, start_daemon: Any) -> None:
    home, work = servers.server("default"), servers.server("work")
    team(home)
    work.new_session("team", "Claude-pm", shell_running(f"{STANDIN} exit-after 3"))
    work.new_window("team", "Claude-developer", shell_running(f"{STANDIN} idle"))
    d = start_daemon(pm_spawn_command=f"{STANDIN} idle", recovery_confirmations=2, recovery_grace=5,
                     starting_after=15)
    with SignalRecorder(d.address) as signals:
        finished = signals.wait_for("RecoveryFinished", timeout=40)
        assert finished[1] == "work.team:0.0" and finished[2] is True, finished
    names = work.run("list-windows", "-t", "team", "-F", "#{window_name}").split()
    assert names.count("Claude-pm") == 1 and len(names) == 2  # replaced on work, in work's session
    assert home.run("list-windows", "-t", "team", "-F", "#{window_name}").split().count("Claude-pm") == 1
    new_pm = wait_until(lambda: [a for a in d.agents() if a["role"] == "pm" and a["server"] == "work"
                                 and a["state"] == "idle"], what="work's new PM idle")[0]
    assert new_pm["id"].startswith("work.team:")


def test_no_server_at_all_is_exit_4(servers: Servers, start_daemon: Any) -> None:
    d = start_daemon()
    done = d.cli("agents")
    assert done.returncode == 4, (done.stdout, done.stderr)
    assert f"no tmux server answers under {servers.dir}" in done.stderr
    status = d.call("GetStatus")[0]
    assert status["tmux_connected"] is False and status["tmux_servers"] == []
    home = servers.server("default")
    team(home)
    d.wait_state("team:0.0", "idle")
    assert d.cli("agents").returncode == 0
