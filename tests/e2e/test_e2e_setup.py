"""The set-up commands under a real systemd --user: install --enable (lingering said plainly), the
hardened unit (its systemd-analyze exposure, and that it still sees /tmp/tmux-UID and writes its state),
doctor, and uninstall.

Tests run in file order and share one install; the last one uninstalls.
"""

from __future__ import annotations

import json
import os
import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.e2e_harness import UserManager, wait_for

pytestmark = pytest.mark.e2e

UNIT = "tmux-orc.service"
VENV_BIN = Path(sys.executable).parent
TMUX_ORC = str(VENV_BIN / "tmux-orc")
EXPOSURE_BEFORE = 6.6  # this unit with AF_INET AF_INET6 and no MemoryDenyWriteExecute/@privileged filter
SCORE_FILE = Path(os.environ.get("TMUX_ORC_E2E_SCORE_FILE", "/tmp/tmux-orc-e2e-exposure.txt"))


class DefaultSocketTmux:
    """A tmux server on ``-L NAME``: its socket lands in /tmp/tmux-UID/, where users' servers live."""

    def __init__(self, manager: UserManager) -> None:
        self.manager = manager
        self.name = f"orc-e2e-{uuid.uuid4().hex[:8]}"
        self.socket = Path("/tmp", f"tmux-{os.getuid()}", self.name)

    def start(self) -> DefaultSocketTmux:
        self.manager.run([
            "systemd-run", "--user", "--scope", "--quiet", f"--unit={self.name}", "--",
            "tmux", "-L", self.name, "-f", "/dev/null", "new-session", "-d", "-s", "crew",
            "-n", "Claude-pm", "sleep 3600",
        ])  # fmt: skip
        self.manager.run(["tmux", "-L", self.name, "new-window", "-d", "-t", "crew:", "-n", "Claude-dev", "sleep 3600"])
        return self

    def alive(self) -> bool:
        return self.manager.run(["tmux", "-L", self.name, "has-session", "-t", "crew"], check=False).returncode == 0

    def stop(self) -> None:
        self.manager.run(["tmux", "-L", self.name, "kill-server"], check=False)


SETTINGS = {
    "TMUX_ORC_INTERVAL": "0.5",
    "TMUX_ORC_DESKTOP_NOTIFICATIONS": "false",
    "TMUX_ORC_NOTIFY_PM": "false",
    "TMUX_ORC_AUTO_RECOVER_PM": "false",
}


@pytest.fixture(scope="module")
def crew(user_manager: UserManager) -> Iterator[DefaultSocketTmux]:
    server = DefaultSocketTmux(user_manager).start()
    settings = SETTINGS | {"TMUX_ORC_TMUX_SOCKET": str(server.socket)}
    user_manager.systemctl("set-environment", *(f"{k}={v}" for k, v in settings.items()))
    try:
        yield server
    finally:
        user_manager.systemctl("stop", UNIT, check=False)
        user_manager.systemctl("unset-environment", *settings, check=False)
        server.stop()


def cli(um: UserManager, *args: str) -> Any:
    return um.run([TMUX_ORC, *args], check=False, timeout=90)


def test_install_enable_says_what_happens_at_logout(user_manager: UserManager, crew: DefaultSocketTmux) -> None:
    done = cli(user_manager, "install", "--enable")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "enabled and started tmux-orc.service" in done.stdout
    # No logind here (PID 1 is not systemd): install cannot tell, and says what a logout would do.
    assert "cannot tell whether lingering is on" in done.stderr
    assert "your tmux server and the agents in it go on running: unwatched" in done.stderr
    assert "loginctl enable-linger" in done.stderr

    linger = cli(user_manager, "install", "--enable", "--linger")
    assert linger.returncode == 1  # asked for, and it could not happen: said, not hidden
    assert "loginctl enable-linger" in linger.stderr and "failed" in linger.stderr


def test_hardened_unit_scores_lower_and_still_sees_tmux_and_writes_state(
    user_manager: UserManager, crew: DefaultSocketTmux
) -> None:
    assert user_manager.prop(UNIT, "RestrictAddressFamilies") == "AF_UNIX"
    assert user_manager.prop(UNIT, "Documentation").strip('"') == "man:tmux-orc(1)"
    analyzed = user_manager.run(["systemd-analyze", "security", "--user", "--no-pager", UNIT]).stdout
    found = re.search(r"Overall exposure level for tmux-orc\.service: ([0-9.]+)", analyzed)
    assert found, analyzed[-500:]
    score = float(found.group(1))
    SCORE_FILE.write_text(f"{score}\n")
    print(f"systemd-analyze security --user {UNIT}: {score} (was {EXPOSURE_BEFORE})")
    assert score < EXPOSURE_BEFORE

    user_manager.wait_state(UNIT, "active")
    status = wait_for("the daemon to see the tmux server in /tmp/tmux-UID", lambda: (
        s if (s := json.loads(cli(user_manager, "monitor", "status", "--json").stdout or "{}")).get(
            "tmux_connected") else None), timeout=30)  # fmt: skip
    assert status["running"] is True
    agents = wait_for("both agents", lambda: (a if len(a := json.loads(
        cli(user_manager, "agents", "--json").stdout or "[]")) >= 2 else None), timeout=30)  # fmt: skip
    assert {a["window"] for a in agents} == {"Claude-pm", "Claude-dev"}
    assert all(a["stale"] is False for a in agents)
    state_file = Path(user_manager.env["XDG_STATE_HOME"], "tmux-orc", "state.json")
    wait_for("the state file", state_file.is_file, timeout=30)
    assert all(agent["id"] in state_file.read_text() for agent in agents)
    journal = user_manager.journal("SYSLOG_IDENTIFIER=tmux-orc")
    assert not any("Bad system call" in str(e.get("MESSAGE")) for e in journal)


def test_doctor_under_the_real_user_manager(user_manager: UserManager, crew: DefaultSocketTmux) -> None:
    done = cli(user_manager, "doctor", "--json")
    report = json.loads(done.stdout)
    levels = {check["name"]: check["level"] for check in report["checks"]}
    assert levels["user manager"] == "ok"
    assert levels["session bus"] == "ok"
    assert levels["daemon"] == "ok" and levels["daemon sees tmux"] == "ok"
    assert levels["unit"] == "ok" and levels["bus activation"] == "ok"
    assert levels["agents"] == "ok"
    assert levels["lingering"] == "warn"  # unknown here
    unit = next(c for c in report["checks"] if c["name"] == "unit")
    assert unit["details"]["exec_start"] == str(VENV_BIN / "tmux-orcd")
    assert done.returncode == (0 if report["ok"] else 1)


def test_paused_daemon_marks_agents_stale(user_manager: UserManager, crew: DefaultSocketTmux) -> None:
    assert cli(user_manager, "monitor", "stop").returncode == 0
    try:
        listing = json.loads(cli(user_manager, "agents", "--json").stdout)
        assert listing and all(agent["stale"] is True for agent in listing)
        table = cli(user_manager, "agents").stdout
        assert "monitoring is paused" in table and "(stale)" in table
    finally:
        cli(user_manager, "monitor", "start")


def test_uninstall_stops_disables_and_removes(user_manager: UserManager, crew: DefaultSocketTmux) -> None:
    unit_file = Path(user_manager.env["XDG_CONFIG_HOME"], "systemd", "user", UNIT)
    activation = Path(user_manager.env["XDG_DATA_HOME"], "dbus-1", "services", "org.tmuxorc.Monitor1.service")
    manpage = Path(user_manager.env["XDG_DATA_HOME"], "man", "man1", "tmux-orc.1")
    assert manpage.is_file()
    dry = cli(user_manager, "uninstall", "--dry-run")
    assert dry.returncode == 0 and unit_file.exists() and user_manager.prop(UNIT, "ActiveState") == "active"
    done = cli(user_manager, "uninstall")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "stopped and disabled tmux-orc.service" in done.stdout
    assert not unit_file.exists() and not activation.exists() and not manpage.exists()
    assert user_manager.show(UNIT, "LoadState", "ActiveState") == {"LoadState": "not-found", "ActiveState": "inactive"}
    assert crew.alive()  # the user's tmux server and agents are not touched
