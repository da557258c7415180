"""Lingering asked of logind for real over D-Bus, and through the real ``loginctl``, against a stand-in
logind on a private bus (systemd-logind itself cannot run without systemd as PID 1)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.harness.bus import PrivateBus
from tmux_orc.cli import linger
from tmux_orc.cli.install import run_command

TMUX_ORC = str(Path(sys.executable).with_name("tmux-orc"))
USER = linger.current_user(os.environ)


@pytest.fixture
def system_bus() -> Iterator[PrivateBus]:
    bus = PrivateBus()
    yield bus
    bus.stop()


@pytest.fixture
def logind(system_bus: PrivateBus) -> Iterator[Callable[[bool], subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start(lingering: bool) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.harness.fake_logind", system_bus.address, str(os.getuid()), USER,
             "yes" if lingering else "no"],
            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2],
        )  # fmt: skip
        started.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        return proc

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(10)


def _env(system_bus: PrivateBus) -> dict[str, str]:
    return dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=system_bus.address)


@pytest.mark.parametrize("lingering", [True, False])
def test_logind_over_dbus(system_bus: PrivateBus, logind: Callable[[bool], object], lingering: bool) -> None:
    logind(lingering)
    state = linger.query_linger(_env(system_bus), run_command)
    assert (state.enabled, state.source) == (lingering, "logind")


def test_a_user_logind_does_not_know_is_not_lingering(system_bus: PrivateBus, logind: Callable[[bool], object]) -> None:
    logind(True)
    assert linger.linger_from_logind(_env(system_bus), uid=os.getuid() + 4242) is False


@pytest.mark.skipif(shutil.which("loginctl") is None, reason="loginctl is not installed")
def test_install_linger_runs_the_real_loginctl(system_bus: PrivateBus, logind: Callable[[bool], subprocess.Popen[str]],
                                                tmp_path: Path) -> None:
    proc = logind(False)
    env = _env(system_bus)
    assert linger.query_linger(env, run_command).enabled is False
    # tmux-orc install --linger runs the real `loginctl enable-linger`, which asks logind over the bus.
    cli_env = env | {"XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data"),
                     "PATH": f"{tmp_path / 'nosystemctl'}:{os.path.dirname(shutil.which('loginctl') or '')}"}
    done = subprocess.run([TMUX_ORC, "install", "--linger"], env=cli_env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"ran loginctl enable-linger {USER}" in done.stdout
    assert proc.stdout is not None and proc.stdout.readline().strip() == f"SetUserLinger {os.getuid()} True"
    assert linger.query_linger(env, run_command).enabled is True
