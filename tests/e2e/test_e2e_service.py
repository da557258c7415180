"""tmux-orc as users run it: installed by ``tmux-orc install``, run by a real systemd --user.

Tests run in file order and share one installed service; each leaves it running with the base settings.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.e2e_harness import UserManager, pid_alive, wait_for
from tests.e2e.e2e_tmux import TmuxServer

pytestmark = pytest.mark.e2e

UNIT = "tmux-orc.service"
BUS_NAME = "org.tmuxorc.Monitor1"
OBJECT_PATH = "/org/tmuxorc/Monitor1"
VENV_BIN = Path(sys.executable).parent
BASE_SETTINGS = {
    "TMUX_ORC_INTERVAL": "0.5",
    "TMUX_ORC_DESKTOP_NOTIFICATIONS": "false",
    "TMUX_ORC_NOTIFY_PM": "false",
    "TMUX_ORC_AUTO_RECOVER_PM": "false",
    "TMUX_ORC_PM_SPAWN_COMMAND": "sleep 3600",
}


@pytest.fixture(scope="module")
def installed(user_manager: UserManager) -> str:
    """``tmux-orc install --user`` run for real against the private manager; returns its output."""
    done = user_manager.run([str(VENV_BIN / "tmux-orc"), "install", "--user"], check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def team(user_manager: UserManager, installed: str) -> Iterator[TmuxServer]:
    """The user's tmux server with a team session, and the service configured to watch it."""
    server = TmuxServer(user_manager, "team").start(
        "team", [("Claude-pm", "sleep 3600"), ("Claude-dev", "sleep 3600"), ("shell", "sleep 3600")]
    )
    settings = BASE_SETTINGS | {"TMUX_ORC_TMUX_SOCKET": str(server.socket)}
    user_manager.systemctl("set-environment", *(f"{k}={v}" for k, v in settings.items()))
    try:
        yield server
    finally:
        user_manager.systemctl("stop", UNIT, check=False)
        user_manager.systemctl("unset-environment", *settings, check=False)
        server.stop()


def ensure_running(um: UserManager) -> dict[str, str]:
    """Start the service from whatever state a test left it in; returns its properties once active."""
    um.systemctl("reset-failed", UNIT, check=False)
    um.systemctl("start", UNIT)
    return um.wait_state(UNIT, "active")


def bus_call(um: UserManager, method: str, *args: str, timeout: int = 30) -> Any:
    """Call a Monitor1 method with busctl; the decoded ``data`` of the reply."""
    argv = ["busctl", "--user", "--json=short", f"--timeout={timeout}", "call",
            BUS_NAME, OBJECT_PATH, BUS_NAME, method, *args]  # fmt: skip
    out = um.run(argv, timeout=timeout + 10).stdout
    return json.loads(out)["data"] if out.strip() else None


def status(um: UserManager) -> dict[str, Any]:
    return {key: value["data"] for key, value in bus_call(um, "GetStatus")[0].items()}


def messages(um: UserManager, pid: str | int) -> list[dict[str, Any]]:
    return um.journal(f"_PID={pid}", "SYSLOG_IDENTIFIER=tmux-orc")


def test_install_writes_the_unit_and_activation_file(user_manager: UserManager, installed: str) -> None:
    config, data = Path(user_manager.env["XDG_CONFIG_HOME"]), Path(user_manager.env["XDG_DATA_HOME"])
    unit_file = config / "systemd" / "user" / UNIT
    activation = data / "dbus-1" / "services" / f"{BUS_NAME}.service"
    assert f"wrote {unit_file}" in installed and f"wrote {activation}" in installed
    assert f"ExecStart={VENV_BIN / 'tmux-orcd'}\n" in unit_file.read_text()
    assert f"Exec={VENV_BIN / 'tmux-orcd'}\n" in activation.read_text()
    shown = user_manager.show(UNIT, "LoadState", "FragmentPath", "UnitFileState")
    assert shown == {"LoadState": "loaded", "FragmentPath": str(unit_file), "UnitFileState": "disabled"}

    again = user_manager.run([str(VENV_BIN / "tmux-orc"), "install", "--user", "--dry-run"])
    assert f"would write {unit_file} (unchanged):" in again.stdout


def test_start_reaches_active_only_after_ready(user_manager: UserManager, team: TmuxServer) -> None:
    user_manager.systemctl("start", UNIT)  # a Type=notify start returns once READY=1 arrived
    shown = user_manager.show(UNIT, "ActiveState", "SubState", "MainPID")
    assert (shown["ActiveState"], shown["SubState"]) == ("active", "running")
    pid = shown["MainPID"]
    assert any(m.startswith(f"{pid} (READY=1") for m in user_manager.notifications(UNIT))
    # READY=1 promises the bus name is owned and a first cycle ran.
    first = status(user_manager)
    assert first["cycles"] >= 1
    assert first["tmux_connected"] is True


def test_status_text_is_the_daemons_one_line_status(user_manager: UserManager, team: TmuxServer) -> None:
    ensure_running(user_manager)
    text = wait_for(
        "a StatusText naming the agents",
        lambda: t if "agent" in (t := user_manager.prop(UNIT, "StatusText")) else None,
        timeout=20,
    )
    assert "\n" not in text and text.isascii()


def test_bus_interface_introspects(user_manager: UserManager, team: TmuxServer) -> None:
    ensure_running(user_manager)
    out = user_manager.run(["busctl", "--user", "introspect", BUS_NAME, OBJECT_PATH]).stdout
    assert "org.tmuxorc.Monitor1" in out
    for member in ("GetStatus", "ListAgents", "GetMetrics", "Reload", "AgentStateChanged", "Running"):
        assert f".{member} " in out, member
    agents = wait_for("both Claude windows listed", lambda: (a if len(a := bus_call(
        user_manager, "ListAgents")[0]) >= 2 else None), timeout=20)  # fmt: skip
    assert {a["window"]["data"] for a in agents} >= {"Claude-pm", "Claude-dev"}


def test_state_lives_in_xdg_state_home(user_manager: UserManager, team: TmuxServer) -> None:
    ensure_running(user_manager)
    state_dir = Path(user_manager.env["XDG_STATE_HOME"]) / "tmux-orc"
    wait_for("the state dir", state_dir.is_dir, timeout=10)
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    assert not (Path(user_manager.env["XDG_CONFIG_HOME"]) / "tmux-orc").exists()


def test_reload_sends_reloading_then_ready(user_manager: UserManager, team: TmuxServer) -> None:
    pid = ensure_running(user_manager)["MainPID"]
    user_manager.systemctl("reload", UNIT)
    user_manager.wait_journal("the reload log line", lambda e: "reloaded" in e["MESSAGE"], f"_PID={pid}")

    def reload_notified() -> bool:
        msgs = [m for m in user_manager.notifications(UNIT) if m.startswith(f"{pid} (")]
        reloading = [i for i, m in enumerate(msgs) if "RELOADING=1" in m]
        return bool(reloading) and any("READY=1" in m for m in msgs[reloading[-1] :])

    wait_for("RELOADING=1 then READY=1", reload_notified, timeout=10)
    shown = user_manager.show(UNIT, "ActiveState", "MainPID")
    assert shown == {"ActiveState": "active", "MainPID": pid}

    def reloads() -> int:
        return sum(m.startswith(f"{pid} (RELOADING=1") for m in user_manager.notifications(UNIT))

    before = reloads()
    os.kill(int(pid), signal.SIGHUP)  # a plain SIGHUP, as `kill -HUP` from a user would send
    wait_for("a second RELOADING=1", lambda: reloads() > before, timeout=10)
    wait_for("READY=1 again", reload_notified, timeout=10)
    assert user_manager.show(UNIT, "ActiveState", "MainPID") == {"ActiveState": "active", "MainPID": pid}


def test_journal_keeps_info_and_warning_priorities(user_manager: UserManager, team: TmuxServer) -> None:
    """An info line at start; a warning when the watched tmux server goes away (a second one, ours)."""
    other = TmuxServer(user_manager, "doomed").start("doomed", [("Claude-qa", "sleep 3600")])
    try:
        user_manager.systemctl("set-environment", f"TMUX_ORC_TMUX_SOCKET={other.socket}")
        user_manager.systemctl("restart", UNIT)
        pid = user_manager.prop(UNIT, "MainPID")
        info = user_manager.wait_journal("an info line", lambda e: "ready" in e["MESSAGE"], f"_PID={pid}")
        assert info["PRIORITY"] == "6" and info["SYSLOG_IDENTIFIER"] == "tmux-orc"
        assert not info["MESSAGE"].startswith("<")
        other.stop()
        warning = user_manager.wait_journal(
            "a warning about the lost tmux server",
            lambda e: e.get("PRIORITY") == "4" and "tmux server" in str(e["MESSAGE"]),
            f"_PID={pid}",
        )
        assert not warning["MESSAGE"].startswith("<")
        time.sleep(1.5)  # a few cycles: the daemon must not start a tmux server of its own
        assert not other.has_session("doomed")
    finally:
        other.stop()
        user_manager.systemctl("set-environment", f"TMUX_ORC_TMUX_SOCKET={team.socket}")
        user_manager.systemctl("restart", UNIT)


def test_user_tmux_server_survives_stop_and_restart(user_manager: UserManager, team: TmuxServer) -> None:
    pid = ensure_running(user_manager)["MainPID"]
    assert UNIT not in team.cgroup()  # the user's server lives in its own scope
    user_manager.systemctl("stop", UNIT)
    assert any(m.startswith(f"{pid} (STOPPING=1") for m in user_manager.notifications(UNIT))
    assert user_manager.prop(UNIT, "Result") == "success"
    assert team.alive() and team.has_session("team")
    user_manager.systemctl("start", UNIT)
    user_manager.systemctl("restart", UNIT)
    assert team.alive() and team.has_session("team")
    assert len(team.tmux("list-windows", "-t", "team").splitlines()) == 3


def test_watchdog_restarts_a_frozen_daemon(user_manager: UserManager, team: TmuxServer) -> None:
    drop_in = user_manager.write_unit_file(f"{UNIT}.d/e2e-watchdog.conf", "[Service]\nWatchdogSec=4s\nLimitCORE=0\n")
    try:
        user_manager.systemctl("daemon-reload")
        user_manager.systemctl("restart", UNIT)
        before = user_manager.show(UNIT, "MainPID", "NRestarts")
        os.kill(int(before["MainPID"]), signal.SIGSTOP)

        def restarted() -> dict[str, str] | None:
            now = user_manager.show(UNIT, "MainPID", "NRestarts", "ActiveState")
            changed = now["NRestarts"] != before["NRestarts"] and now["ActiveState"] == "active"
            return now if changed else None

        after = wait_for("the watchdog to restart the daemon", restarted, timeout=45)
        assert int(after["NRestarts"]) == int(before["NRestarts"]) + 1
        assert after["MainPID"] != before["MainPID"]
        assert not pid_alive(int(before["MainPID"]))
        # PYTHONFAULTHANDLER=1: the watchdog's SIGABRT leaves the stuck stack in the journal.
        user_manager.wait_journal(
            "faulthandler's dump",
            lambda e: "Fatal Python error" in str(e["MESSAGE"]),
            f"_PID={before['MainPID']}",
        )
    finally:
        drop_in.unlink()
        user_manager.systemctl("daemon-reload")
        user_manager.systemctl("restart", UNIT)


def test_dbus_activation_starts_the_stopped_service(user_manager: UserManager, team: TmuxServer) -> None:
    ensure_running(user_manager)
    user_manager.systemctl("stop", UNIT)
    assert user_manager.prop(UNIT, "ActiveState") == "inactive"
    assert status(user_manager)["version"]  # the bus asks systemd to start tmux-orc.service
    shown = user_manager.wait_state(UNIT, "active")
    assert shown["SubState"] == "running"


def test_invalid_setting_exits_78_without_a_restart_loop(user_manager: UserManager, team: TmuxServer) -> None:
    user_manager.systemctl("set-environment", "TMUX_ORC_INTERVAL=abc")
    try:
        assert user_manager.systemctl("restart", UNIT, check=False).returncode != 0
        failed = user_manager.wait_state(UNIT, "failed")
        assert (failed["ExecMainStatus"], failed["Result"], failed["NRestarts"]) == ("78", "exit-code", "0")
        time.sleep(5)  # > 2 x RestartSec: a restart loop would have shown by now
        still = user_manager.show(UNIT, "ActiveState", "NRestarts", "ExecMainPID")
        assert (still["ActiveState"], still["NRestarts"]) == ("failed", "0")
        line = user_manager.wait_journal(
            "the one-line reason",
            lambda e: "TMUX_ORC_INTERVAL" in e["MESSAGE"],
            f"_PID={failed['ExecMainPID']}",
        )
        assert "abc" in line["MESSAGE"] and "\n" not in line["MESSAGE"]
        assert line["PRIORITY"] == "3"
        assert len(messages(user_manager, failed["ExecMainPID"])) == 1
    finally:
        user_manager.systemctl("set-environment", f"TMUX_ORC_INTERVAL={BASE_SETTINGS['TMUX_ORC_INTERVAL']}")
        ensure_running(user_manager)


def test_install_enable_starts_the_service_and_the_cli_reaches_it(user_manager: UserManager, team: TmuxServer) -> None:
    user_manager.systemctl("stop", UNIT)
    done = user_manager.run([str(VENV_BIN / "tmux-orc"), "install", "--user", "--enable"], check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "enabled and started tmux-orc.service" in done.stdout
    shown = user_manager.show(UNIT, "ActiveState", "UnitFileState")
    assert shown == {"ActiveState": "active", "UnitFileState": "enabled"}
    cli = user_manager.run([str(VENV_BIN / "tmux-orc"), "monitor", "status", "--json"], check=False)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert json.loads(cli.stdout)["running"] is True
