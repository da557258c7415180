"""Invalid settings stop the real daemon with exit 78 and one line; Reload() with them keeps the running ones."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.harness.bus import PrivateBus, gdbus_call, wait_until
from tests.harness.daemon import TMUX_ORCD, DaemonProcess
from tests.harness.tmux import TmuxTestServer
from tmux_orc.service import names

StartDaemon = Callable[..., DaemonProcess]


def _start_with(tmux: TmuxTestServer, bus: PrivateBus, tmp_path: Path, config: str | None = None,
                **settings: str) -> subprocess.CompletedProcess[str]:
    d = DaemonProcess(bus.address, tmux.socket, tmp_path)
    d.env.update({f"TMUX_ORC_{key.upper()}": value for key, value in settings.items()})
    if config is not None:
        path = tmp_path / "config" / "tmux-orc" / "config.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(config)
    return subprocess.run([TMUX_ORCD], env=d.env, capture_output=True, text=True, timeout=30)


# One case per class of error: simple value, bound, non-finite, complex (JSON) value, nesting, empty
# socket, file kinds, TOML syntax, TOML value, unknown key.
ENV_CASES = {
    "simple": ({"auto_recover_pm": "maybe"}, "TMUX_ORC_AUTO_RECOVER_PM"),
    "bound": ({"interval": "1e-9"}, "TMUX_ORC_INTERVAL"),
    "not-finite": ({"stuck_after": "inf"}, "TMUX_ORC_STUCK_AFTER"),
    "json-roles": ({"roles": "notjson"}, "TMUX_ORC_ROLES"),
    "json-plugins": ({"strategy_plugins": "a,b"}, "TMUX_ORC_STRATEGY_PLUGINS"),
    "too-deep": ({"roles": "[" * 50_000}, "TMUX_ORC_ROLES"),
    "empty-socket": ({"tmux_socket": ""}, "TMUX_ORC_TMUX_SOCKET"),
    "rules-dir": ({"rules_file": "/"}, "TMUX_ORC_RULES_FILE"),
}
FILE_CASES = {
    "toml-syntax": ("interval = \n", "invalid config file"),
    "toml-value": ("recovery_grace = inf\n", "TMUX_ORC_RECOVERY_GRACE"),
    "toml-complex": ('roles = "x"\n', "TMUX_ORC_ROLES"),
    "toml-unknown": ("intervall = 2\n", "unknown setting"),
}


@pytest.mark.parametrize("case", sorted(ENV_CASES))
def test_invalid_environment_value_exits_78_with_one_line(case: str, tmux_srv: TmuxTestServer,
                                                         session_bus: PrivateBus, tmp_path: Path) -> None:
    env, needle = ENV_CASES[case]
    proc = _start_with(tmux_srv, session_bus, tmp_path, **env)
    assert proc.returncode == 78, proc.stderr
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert needle in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_invalid_config_file_exits_78_with_one_line(case: str, tmux_srv: TmuxTestServer,
                                                   session_bus: PrivateBus, tmp_path: Path) -> None:
    text, needle = FILE_CASES[case]
    proc = _start_with(tmux_srv, session_bus, tmp_path, config=text)
    assert proc.returncode == 78, proc.stderr
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert needle in proc.stderr


def test_config_file_that_is_a_fifo_exits_78_without_blocking(tmux_srv: TmuxTestServer,
                                                             session_bus: PrivateBus, tmp_path: Path) -> None:
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    proc = _start_with(tmux_srv, session_bus, tmp_path, config_file=str(fifo))
    assert proc.returncode == 78 and "not a regular file" in proc.stderr


def test_reload_with_invalid_settings_keeps_the_running_ones(tmux_srv: TmuxTestServer, daemon: StartDaemon,
                                                            tmp_path: Path) -> None:
    tmux_srv.new_session("team")
    config = tmp_path / "config" / "tmux-orc" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    d = daemon(tmux_srv)
    # (the harness sets interval, tmux_socket and state_dir in the environment, which wins over the file)
    for text in ("recovery_grace = inf\n", 'roles = "notjson"\n', "stuck_after = nan\n", "intervall = 1\n"):
        config.write_text(text)
        reply = gdbus_call(d.address, "Reload")
        assert names.ERROR_INVALID_ARGUMENT in reply.stderr, reply
    assert d.log().count("reload refused, keeping the running settings") == 4
    cycles = d.call("GetStatus")[0]["cycles"]
    wait_until(lambda: d.call("GetStatus")[0]["cycles"] > cycles + 2, timeout=20, what="cycles go on")
    config.write_text("stuck_after = 120\n")
    assert gdbus_call(d.address, "Reload").returncode == 0
    assert "settings reloaded" in d.log()
    assert d.proc is not None and d.proc.poll() is None
