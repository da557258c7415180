"""The doctor's checks as pure functions of gathered facts, and its report."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tmux_orc.cli import doctor
from tmux_orc.cli.doctor_checks import (
    Level,
    TmuxServer,
    check_activation,
    check_agents,
    check_bus,
    check_claude_hooks,
    check_codex_notify,
    check_daemon,
    check_daemon_tmux,
    check_linger,
    check_notifications,
    check_settings,
    check_tmux,
    check_unit,
    check_user_manager,
    claude_hook_commands,
    exec_start_path,
    parse_show,
    unit_file_exec,
)
from tmux_orc.cli.linger import Linger

DAEMON = "/home/me/venv/bin/tmux-orcd"
SHOW_EXEC = f"{{ path={DAEMON} ; argv[]={DAEMON} ; ignore_errors=no ; start_time=[n/a] ; pid=0 ; code=(null) }}"


def test_settings(tmp_path: Path) -> None:
    assert check_settings(None, tmp_path / "config.toml").level is Level.OK
    bad = check_settings("invalid setting TMUX_ORC_INTERVAL='x'", tmp_path / "config.toml")
    assert bad.level is Level.FAIL and "TMUX_ORC_INTERVAL" in bad.summary and bad.fix


@pytest.mark.parametrize(("status", "output", "level"), [
    (0, "running\n", Level.OK),
    (1, "degraded\n", Level.WARN),
    (1, "starting", Level.OK),
    (1, "Failed to connect to bus: No medium found", Level.FAIL),
    (1, "offline", Level.FAIL),
    (None, "", Level.FAIL),
])  # fmt: skip
def test_user_manager(status: int | None, output: str, level: Level) -> None:
    check = check_user_manager(status, output)
    assert check.level is level
    assert (check.fix != "") == (level is not Level.OK)


def test_linger() -> None:
    assert check_linger(Linger("me", True, "logind")).level is Level.OK
    off = check_linger(Linger("me", False, "loginctl"))
    assert off.level is Level.WARN and "unwatched" in off.summary and off.fix.startswith("loginctl enable-linger me")
    unknown = check_linger(Linger("me", None, "", "no system bus"))
    assert unknown.level is Level.WARN and "no system bus" in unknown.summary


def test_bus_and_daemon() -> None:
    assert check_bus("unix:path=/run/user/1/bus", "").level is Level.OK
    assert check_bus("", "no session bus").level is Level.FAIL
    assert check_daemon(None, None, "").level is Level.SKIP
    missing = check_daemon(False, None, "")
    assert missing.level is Level.FAIL and "systemctl --user start tmux-orc" in missing.fix
    assert check_daemon(True, None, "timed out").level is Level.FAIL
    status = {"running": True, "tmux_connected": True, "version": "0.1.0", "agents": 3, "cycles": 9}
    assert check_daemon(True, status, "").level is Level.OK
    paused = check_daemon(True, status | {"running": False}, "")
    assert paused.level is Level.WARN and paused.fix == "tmux-orc monitor start"


def test_daemon_tmux() -> None:
    assert check_daemon_tmux(None).level is Level.SKIP
    assert check_daemon_tmux({"tmux_connected": True}).level is Level.OK
    blind = check_daemon_tmux({"tmux_connected": False, "tmux_error": "no tmux server answers at /s: gone",
                               "tmux_socket": "/s"})
    assert blind.level is Level.FAIL and "gone" in blind.summary and "/s" in blind.fix


def test_exec_start_forms() -> None:
    assert exec_start_path(SHOW_EXEC) == DAEMON
    assert exec_start_path('"/a dir/tmux-orcd" --x') == "/a dir/tmux-orcd"
    assert exec_start_path("-/usr/bin/tmux-orcd") == "/usr/bin/tmux-orcd"
    assert exec_start_path("/per%%cent/tmux-orcd") == "/per%cent/tmux-orcd"
    assert unit_file_exec("[Service]\nExecStart=/x/tmux-orcd\n") == "/x/tmux-orcd"
    assert unit_file_exec("[D-BUS Service]\nExec=/y/tmux-orcd\n", "Exec") == "/y/tmux-orcd"
    assert parse_show("A=1\nB=x=y\n") == {"A": "1", "B": "x=y"}


def test_unit() -> None:
    show = {"LoadState": "loaded", "ExecStart": SHOW_EXEC, "UnitFileState": "enabled", "ActiveState": "active",
            "RestrictAddressFamilies": "AF_UNIX"}
    assert check_unit(show, "", DAEMON, wants_inet=False).level is Level.OK
    other = check_unit(show | {"ExecStart": "{ path=/old/tmux-orcd ; }"}, "", DAEMON, wants_inet=False)
    assert other.level is Level.FAIL and "/old/tmux-orcd" in other.summary and "tmux-orc install" in other.fix
    assert check_unit(show | {"UnitFileState": "disabled"}, "", DAEMON, wants_inet=False).level is Level.WARN
    assert check_unit({"LoadState": "not-found"}, "", DAEMON, wants_inet=False).level is Level.FAIL
    inet = check_unit(show, "", DAEMON, wants_inet=True)
    assert inet.level is Level.WARN and "AF_UNIX" in inet.summary
    opened = show | {"RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6"}
    assert check_unit(opened, "", DAEMON, wants_inet=True).level is Level.OK
    # no user manager to ask: the unit file decides
    assert check_unit(None, DAEMON, DAEMON, wants_inet=False).level is Level.OK
    assert check_unit(None, "", DAEMON, wants_inet=False).level is Level.FAIL


def test_activation(tmp_path: Path) -> None:
    path = tmp_path / "org.tmuxorc.Monitor1.service"
    assert check_activation(False, "", DAEMON, path).level is Level.WARN
    assert check_activation(True, DAEMON, DAEMON, path).level is Level.OK
    assert check_activation(True, "/old/tmux-orcd", DAEMON, path).level is Level.FAIL


def test_tmux_servers() -> None:
    live = TmuxServer("/tmp/tmux-1/default", True, 2)
    stale = TmuxServer("/tmp/tmux-1/old", False, error="no server running")
    assert check_tmux([live], "/tmp/tmux-1", None).level is Level.OK
    warn = check_tmux([live, stale], "/tmp/tmux-1", None)
    assert warn.level is Level.WARN and warn.fix == "rm /tmp/tmux-1/old"
    assert check_tmux([], "/tmp/tmux-1", None).level is Level.WARN
    assert check_tmux([live], "/tmp/tmux-1", "/tmp/tmux-1/work").level is Level.FAIL
    assert check_tmux([live], "/tmp/tmux-1", "/tmp/tmux-1/default").level is Level.OK


def test_agents() -> None:
    assert check_agents(None, "Claude-").level is Level.SKIP
    assert check_agents([], "Claude-").level is Level.WARN
    ok = check_agents([{"state": "idle"}, {"state": "idle"}, {"state": "working"}], "Claude-")
    assert ok.level is Level.OK and ok.summary == "3 agents: 2 idle, 1 working"


CLAUDE_SETTINGS = {
    "model": "opus",
    "hooks": {
        "Notification": [{"hooks": [{"type": "command", "command": "/opt/orc/bin/tmux-orc hook Notification"}]}],
        "Stop": [{"matcher": "", "hooks": [{"type": "command", "command": "say done"}]}],
        "Weird": "not a list",
    },
}


def test_claude_hooks(tmp_path: Path) -> None:
    assert claude_hook_commands(CLAUDE_SETTINGS) == {
        "Notification": ["/opt/orc/bin/tmux-orc hook Notification"], "Stop": ["say done"]}
    assert claude_hook_commands(["not", "a", "dict"]) == {}
    path = tmp_path / "settings.json"
    assert check_claude_hooks(path, None, "absent", "").level is Level.SKIP
    assert check_claude_hooks(path, None, "Expecting value", "").level is Level.WARN
    assert check_claude_hooks(path, {"model": "x"}, "", "").level is Level.WARN
    missing = check_claude_hooks(path, CLAUDE_SETTINGS, "", "")
    assert missing.level is Level.FAIL and "/opt/orc/bin/tmux-orc" in missing.summary
    program = tmp_path / "bin" / "tmux-orc"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    bare = {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "tmux-orc hook Stop"}]}]}}
    ok = check_claude_hooks(path, bare, "", str(program.parent))
    assert ok.level is Level.OK and "Stop" in ok.summary
    assert check_claude_hooks(path, bare, "", "/nonexistent").level is Level.FAIL  # bare name not on PATH


def test_codex_notify(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert check_codex_notify(path, None, "absent").level is Level.SKIP
    assert check_codex_notify(path, {"notify": ["/x/tmux-orc", "hook", "codex-notify"]}, "").level is Level.OK
    assert check_codex_notify(path, {"notify": ["notify-send"]}, "").level is Level.WARN
    assert check_codex_notify(path, {}, "").level is Level.WARN


def test_notifications() -> None:
    assert check_notifications(False, None, False).level is Level.OK
    assert check_notifications(True, None, False).level is Level.SKIP
    assert check_notifications(True, True, False).level is Level.OK
    assert check_notifications(True, False, True).level is Level.OK
    assert check_notifications(True, False, False).level is Level.WARN


def test_socket_discovery(tmp_path: Path) -> None:
    import socket

    env = {"TMUX_TMPDIR": str(tmp_path)}
    directory = doctor.tmux_socket_dir(env)
    assert directory == tmp_path / f"tmux-{os.getuid()}"
    directory.mkdir()
    (directory / "not-a-socket").write_text("")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(directory / "stale"))
        assert doctor.find_sockets(directory) == [directory / "stale"]
        answer = doctor.probe_tmux(directory / "stale")
        assert not answer.answers and answer.error
    assert doctor.find_sockets(tmp_path / "absent") == []
    assert doctor.tmux_socket_dir({}) == Path("/tmp", f"tmux-{os.getuid()}")


def test_report_lines_and_exit_rule() -> None:
    checks = [check_bus("unix:path=/b", ""), check_daemon(False, None, ""), check_agents([], "Claude-")]
    text = doctor.render(checks)
    lines = text.splitlines()
    assert lines[0].startswith("ok") and lines[1].startswith("FAIL") and lines[2].strip().startswith("fix:")
    assert lines[-1] == "1 failed, 1 warnings, 3 checks"
    assert checks[1].as_dict()["level"] == "fail"


def test_tmux_with_several_servers_watched() -> None:
    home = TmuxServer("/tmp/tmux-1/default", True, 2)
    work = TmuxServer("/tmp/tmux-1/work", True, 1)
    other = TmuxServer("/tmp/tmux-1/other", True, 1)
    assert check_tmux([home, work], "/tmp/tmux-1", ["/tmp/tmux-1/default", "/tmp/tmux-1/work"]).level is Level.OK
    assert check_tmux([home, work, other], "/tmp/tmux-1", None).level is Level.OK  # unset: every one watched
    unwatched = check_tmux([home, work, other], "/tmp/tmux-1", ["/tmp/tmux-1/default", "/tmp/tmux-1/work"])
    assert unwatched.level is Level.WARN and "not watched (tmux_socket): other" in unwatched.summary
    assert "leave it unset" in unwatched.fix
    missing = check_tmux([home], "/tmp/tmux-1", ["/tmp/tmux-1/default", "/tmp/tmux-1/work"])
    assert missing.level is Level.WARN and "no server answers at /tmp/tmux-1/work" in missing.summary
    none = check_tmux([other], "/tmp/tmux-1", ["/tmp/tmux-1/default", "/tmp/tmux-1/work"])
    assert none.level is Level.FAIL


def test_gemini_and_qwen_hooks_are_checked_with_the_hooks_format(tmp_path: Path) -> None:
    """doctor reads Gemini CLI's and Qwen Code's settings with the code `hooks install` writes them with."""
    from tmux_orc.cli.doctor import json_hook_check
    from tmux_orc.cli.hooks import gemini
    from tmux_orc.cli.hooks.command import find_program

    env = {"HOME": str(tmp_path), "PATH": ""}
    assert json_hook_check("gemini", env).level is Level.SKIP  # no ~/.gemini: not used here
    settings = tmp_path / ".gemini" / "settings.json"
    settings.parent.mkdir()
    assert json_hook_check("gemini", env).level is Level.WARN  # used, no hooks
    settings.write_text("{not json")
    assert "cannot read" in json_hook_check("gemini", env).summary
    program = find_program(env) or "tmux-orc"
    settings.write_text(gemini.HOOKS.install_text('{"ui": {"theme": "x"}}', program))
    assert json_hook_check("gemini", env).level is Level.OK
    settings.write_text(gemini.HOOKS.install_text('{"ui": {"theme": "x"}}', "/elsewhere/tmux-orc"))
    assert "outdated" in json_hook_check("gemini", env).summary
    assert json_hook_check("qwen", env).level is Level.SKIP
