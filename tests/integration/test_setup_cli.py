"""doctor, config, paused agents and exit 4 against the real daemon on a private bus and tmux server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.harness.bus import PrivateBus, wait_until
from tests.harness.daemon import DaemonProcess
from tests.harness.tmux import TmuxTestServer
from tests.integration.test_cli import team

StartDaemon = Callable[..., DaemonProcess]


def test_paused_daemon_marks_agents_stale(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    team(tmux_srv)
    d = daemon(tmux_srv)
    d.wait_state("team:0.0", "idle")
    fresh = json.loads(d.cli("agents", "--json").stdout)
    assert [agent["stale"] for agent in fresh] == [False, False]

    assert d.cli("monitor", "stop").returncode == 0
    listing = d.cli("agents", "--json")
    assert listing.returncode == 0
    assert [agent["stale"] for agent in json.loads(listing.stdout)] == [True, True]
    table = d.cli("agents").stdout.splitlines()
    assert table[0].startswith("# monitoring is paused")
    assert any("idle (stale)" in line for line in table)
    assert d.cli("monitor", "start").returncode == 0
    assert "(stale)" not in d.cli("agents").stdout


def test_agents_exits_4_when_the_daemon_reaches_no_tmux(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    team(tmux_srv)
    d = daemon(tmux_srv)
    d.wait_state("team:0.0", "idle")
    tmux_srv.kill()
    wait_until(lambda: d.call("GetStatus")[0]["tmux_connected"] is False, what="tmux_connected false")

    done = d.cli("agents")
    assert done.returncode == 4
    assert f"no tmux server answers at {tmux_srv.socket}" in done.stderr
    assert "(stale)" in done.stdout  # the last known states, marked
    as_json = d.cli("agents", "--json")
    assert as_json.returncode == 4 and all(a["stale"] for a in json.loads(as_json.stdout))

    status = json.loads(d.cli("monitor", "status", "--json").stdout)
    assert status["tmux_error"].startswith(f"no tmux server answers at {tmux_srv.socket}")
    text = d.cli("monitor", "status").stdout
    assert "tmux_error:" in text and str(tmux_srv.socket) in text


def test_monitor_status_hides_an_empty_tmux_error(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    team(tmux_srv)
    d = daemon(tmux_srv)
    assert json.loads(d.cli("monitor", "status", "--json").stdout)["tmux_error"] == ""
    assert "tmux_error" not in d.cli("monitor", "status").stdout


def test_doctor_against_the_live_daemon(tmux_srv: TmuxTestServer, daemon: StartDaemon, tmp_path: Path) -> None:
    team(tmux_srv)
    d = daemon(tmux_srv)
    d.wait_state("team:0.0", "idle")
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    hook = "/bin/true"  # a program that exists, standing in for this install's tmux-orc path
    (home / ".claude" / "settings.json").write_text(json.dumps({"hooks": {"Stop": [{"hooks": [
        {"type": "command", "command": f"{hook} tmux-orc hook Stop"}]}]}}))
    d.env["HOME"] = str(home)
    d.env["TMUX_TMPDIR"] = str(tmp_path / "tmuxdir")  # no other servers: only the watched one counts

    done = d.cli("doctor", "--json")
    report = json.loads(done.stdout)
    levels = {check["name"]: check["level"] for check in report["checks"]}
    assert levels["settings"] == "ok"
    assert levels["session bus"] == "ok"
    assert levels["daemon"] == "ok" and levels["daemon sees tmux"] == "ok"
    assert levels["agents"] == "ok"
    assert levels["tmux servers"] == "ok"
    assert levels["hooks: claude"] == "ok" and levels["hooks: codex"] == "skip"
    assert levels["notifications"] == "ok"  # desktop_notifications is off for the test daemon
    agents = next(c for c in report["checks"] if c["name"] == "agents")
    assert agents["summary"].startswith("2 agents")
    # No systemd --user here: that check fails, so doctor exits 1 and names the fix.
    assert levels["user manager"] == "fail" and done.returncode == 1
    text = d.cli("doctor")
    assert text.returncode == 1
    assert any(line.startswith("FAIL  user manager") for line in text.stdout.splitlines())
    assert "fix:" in text.stdout

    d.cli("monitor", "stop")
    paused = json.loads(d.cli("doctor", "--json").stdout)
    assert {c["name"]: c["level"] for c in paused["checks"]}["daemon"] == "warn"


def test_doctor_without_a_daemon_does_not_start_one(session_bus: object, tmp_path: Path) -> None:
    import os
    import subprocess

    from tests.harness.daemon import TMUX_ORC

    env = dict(os.environ, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "cfg"),
               XDG_DATA_HOME=str(tmp_path / "data"), TMUX_TMPDIR=str(tmp_path))  # fmt: skip
    done = subprocess.run([TMUX_ORC, "doctor", "--json"], env=env, capture_output=True, text=True, timeout=60)
    report = json.loads(done.stdout)
    daemon_check = next(c for c in report["checks"] if c["name"] == "daemon")
    assert daemon_check["level"] == "fail" and "systemctl --user start tmux-orc" in daemon_check["fix"]
    assert done.returncode == 1 and report["ok"] is False


def test_config_shows_the_daemons_sources(tmux_srv: TmuxTestServer, session_bus: PrivateBus, tmp_path: Path) -> None:
    d = DaemonProcess(session_bus.address, tmux_srv.socket, tmp_path)  # its environment; config needs no daemon
    config_dir = Path(d.env["XDG_CONFIG_HOME"]) / "tmux-orc"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text("stuck_after = 120.0\n")
    done = d.cli("config", "--json")
    assert done.returncode == 0, done.stderr
    settings = json.loads(done.stdout)["settings"]
    assert settings["stuck_after"]["source"] == "config file"
    assert settings["interval"] == {"value": 0.3, "source": "environment", "origin": "TMUX_ORC_INTERVAL"}
    assert settings["tmux_socket"]["value"] == str(tmux_srv.socket)
    assert settings["alert_cooldown"]["source"] == "default"


def test_bash_completes_targets_from_the_live_daemon(tmux_srv: TmuxTestServer, daemon: StartDaemon,
                                                     tmp_path: Path) -> None:
    import shutil
    import subprocess

    from tests.harness.daemon import TMUX_ORC

    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    team(tmux_srv)
    d = daemon(tmux_srv)
    d.wait_state("team:0.0", "idle")
    assert d.cli("agents", "--targets").stdout.split() == ["team:0.0", "team:1.0"]
    script = tmp_path / "tmux-orc.bash"
    script.write_text(d.cli("completion", "bash").stdout)
    probe = (f"source {script}; COMP_WORDS=(tmux-orc explain ''); COMP_CWORD=2; COMP_LINE='tmux-orc explain '; "
             "COMP_POINT=${#COMP_LINE}; _shtab_tmux_orc tmux-orc '' explain; printf '%s\\n' \"${COMPREPLY[@]}\"")
    env = d.env | {"PATH": f"{Path(TMUX_ORC).parent}:/usr/bin:/bin"}
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=60, env=env)
    assert done.stdout.split() == ["team:0.0", "team:1.0"], done.stdout + done.stderr
