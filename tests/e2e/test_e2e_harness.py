"""The harness itself, with a tiny Type=notify unit of our own: if these fail, the product tests can't pass.

The fake unit carries the same directives as tmux-orc.service (rendered from the real template, with
the fake daemon as ExecStart and its own identifier), so this also proves the template's hardening
options work under this machine's systemd --user.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from tests.e2e.e2e_harness import UserManager, pid_alive, wait_for
from tmux_orc.cli.install import render_unit

pytestmark = pytest.mark.e2e

FAKE = "orc-e2e-fake.service"
FAKE_ID = "orc-e2e-fake"


@pytest.fixture(scope="module")
def fake_unit(user_manager: UserManager) -> str:
    launcher = Path(user_manager.root, "fake-daemon")
    launcher.write_text(f"#!/bin/sh\nexec {sys.executable} {Path(__file__).parent / 'fake_notify_daemon.py'}\n")
    launcher.chmod(0o755)
    unit = render_unit(str(launcher)).replace("SyslogIdentifier=tmux-orc", f"SyslogIdentifier={FAKE_ID}")
    unit = unit.replace("BusName=org.tmuxorc.Monitor1\n", "")
    user_manager.write_unit_file(FAKE, unit)
    user_manager.write_unit_file(f"{FAKE}.d/watchdog.conf", "[Service]\nWatchdogSec=3s\n")
    user_manager.systemctl("daemon-reload")
    return FAKE


def test_notify_unit_starts_and_reports_status(user_manager: UserManager, fake_unit: str) -> None:
    user_manager.systemctl("start", fake_unit)
    shown = user_manager.show(fake_unit, "ActiveState", "StatusText", "MainPID")
    assert shown["ActiveState"] == "active"
    assert shown["StatusText"] == "fake daemon running"
    pid = shown["MainPID"]
    assert any(msg.startswith(f"{pid} (READY=1") for msg in user_manager.notifications(fake_unit))


def test_journal_keeps_priorities(user_manager: UserManager, fake_unit: str) -> None:
    pid = user_manager.prop(fake_unit, "MainPID")
    entry = user_manager.wait_journal(
        "the fake's warning line", lambda e: e["MESSAGE"] == "fake warning line", f"_PID={pid}"
    )
    assert entry["PRIORITY"] == "4"
    assert entry["SYSLOG_IDENTIFIER"] == FAKE_ID
    info = user_manager.journal(f"_PID={pid}", f"SYSLOG_IDENTIFIER={FAKE_ID}")
    assert any(e["MESSAGE"] == "fake daemon up" and e["PRIORITY"] == "6" for e in info)


def test_reload_goes_through_sighup(user_manager: UserManager, fake_unit: str) -> None:
    pid = user_manager.prop(fake_unit, "MainPID")
    user_manager.systemctl("reload", fake_unit)
    wait_for("reload status", lambda: user_manager.prop(fake_unit, "StatusText").startswith("fake reloaded"))
    assert user_manager.prop(fake_unit, "MainPID") == pid
    msgs = user_manager.notifications(fake_unit)
    assert any(m.startswith(f"{pid} (RELOADING=1") for m in msgs)


def test_watchdog_restarts_a_frozen_service(user_manager: UserManager, fake_unit: str) -> None:
    before = user_manager.show(fake_unit, "MainPID", "NRestarts")
    os.kill(int(before["MainPID"]), signal.SIGSTOP)
    after = wait_for(
        "a watchdog restart",
        lambda: (
            shown
            if (shown := user_manager.show(fake_unit, "MainPID", "NRestarts", "ActiveState"))["NRestarts"]
            != before["NRestarts"]
            and shown["ActiveState"] == "active"
            else None
        ),
        timeout=30,
    )
    assert int(after["NRestarts"]) == int(before["NRestarts"]) + 1
    assert after["MainPID"] != before["MainPID"]
    assert not pid_alive(int(before["MainPID"]))


def test_exit_78_does_not_restart(user_manager: UserManager, fake_unit: str) -> None:
    user_manager.systemctl("set-environment", "FAKE_EXIT_CONFIG=1")
    try:
        assert user_manager.systemctl("restart", fake_unit, check=False).returncode != 0
        failed = user_manager.wait_state(fake_unit, "failed")
        assert failed["ExecMainStatus"] == "78"
        assert failed["NRestarts"] == "0"
    finally:
        user_manager.systemctl("unset-environment", "FAKE_EXIT_CONFIG")
        user_manager.systemctl("stop", fake_unit, check=False)
        user_manager.systemctl("reset-failed", fake_unit, check=False)
