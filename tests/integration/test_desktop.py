"""DesktopNotifier against a real notification server: dunst under Xvfb on a private session bus."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from dbus_fast.aio import MessageBus

from tmux_orc.demo.processes import BUS_CONFIG
from tmux_orc.service.desktop import DesktopNotifier

MISSING = [tool for tool in ("Xvfb", "dunst", "dunstctl", "dbus-daemon") if shutil.which(tool) is None]


def _stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()




@pytest.fixture
def bare_bus(tmp_path: Path) -> Iterator[str]:
    """A session bus with no activatable services at all (the system's service files are not read)."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("needs dbus-daemon")
    config = tmp_path / "bus.conf"
    config.write_text(BUS_CONFIG.format(directory=escape(str(tmp_path))))
    proc = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        _stop(proc)


@pytest.fixture
def dunst_bus(bare_bus: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """dunst on its own Xvfb display and a private bus; yields the environment for dunstctl.

    The bus activates nothing, so only the dunst started here can own the notification name."""
    if MISSING:
        pytest.skip(f"needs {', '.join(MISSING)} (apt-get install dunst xvfb)")
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-nolisten", "tcp", "-screen", "0", "800x600x24"],
                            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    started: list[subprocess.Popen[Any]] = [xvfb]
    try:
        with os.fdopen(read_fd) as pipe:
            display = pipe.readline().strip()  # Xvfb picks a free display number and writes it here
        if not display.isdigit():
            pytest.skip("Xvfb did not start")
        env = {**os.environ, "DISPLAY": f":{display}", "DBUS_SESSION_BUS_ADDRESS": bare_bus,
               "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
        started.append(subprocess.Popen(["dunst"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 10
        while subprocess.run(["dunstctl", "is-paused"], env=env, capture_output=True).returncode != 0:
            if time.monotonic() > deadline or started[-1].poll() is not None:
                pytest.fail("dunst did not come up on the private bus")
            time.sleep(0.1)
        yield env
    finally:
        for proc in reversed(started):
            _stop(proc)


def history(env: dict[str, str]) -> list[dict[str, Any]]:
    subprocess.run(["dunstctl", "close-all"], env=env, check=True)
    time.sleep(0.2)
    out = subprocess.run(["dunstctl", "history"], env=env, check=True, capture_output=True, text=True).stdout
    return [{k: v["data"] for k, v in entry.items()} for entry in json.loads(out)["data"][0]]


@pytest.mark.timeout(60)
def test_notifications_arrive_and_replace_per_target(dunst_bus: dict[str, str]) -> None:
    async def scenario() -> DesktopNotifier:
        bus = await asyncio.wait_for(MessageBus(bus_address=dunst_bus["DBUS_SESSION_BUS_ADDRESS"]).connect(), 10)
        try:
            notifier = DesktopNotifier(bus)
            assert await notifier.available()
            await notifier.notify("warning", "proj:1.0 (developer) is stuck", "nothing moved for 5 min", "proj:1.0")
            first_id = notifier._ids["proj:1.0"]
            await notifier.notify("critical", "proj:1.0 (developer) crashed", "bash prompt in the pane", "proj:1.0")
            await notifier.notify("info", "proj:2.0 (qa) is idle", "idle for 10 min", "proj:2.0")
            assert notifier._ids["proj:1.0"] == first_id  # replaced, not a second notification
            return notifier
        finally:
            bus.disconnect()

    notifier = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert notifier.sent == 3 and notifier.failures == 0
    ours = [e for e in history(dunst_bus) if e["appname"] == "tmux-orc"]
    by_summary = {e["summary"]: e for e in ours}
    assert set(by_summary) == {"proj:1.0 (developer) crashed", "proj:2.0 (qa) is idle"}
    assert by_summary["proj:1.0 (developer) crashed"]["body"] == "bash prompt in the pane"
    assert by_summary["proj:1.0 (developer) crashed"]["id"] == notifier._ids["proj:1.0"]
    assert by_summary["proj:2.0 (qa) is idle"]["id"] != notifier._ids["proj:1.0"]


@pytest.mark.timeout(60)
def test_no_notification_server_is_reported_and_never_raises(bare_bus: str) -> None:
    async def scenario() -> DesktopNotifier:
        bus = await asyncio.wait_for(MessageBus(bus_address=bare_bus).connect(), 10)
        try:
            notifier = DesktopNotifier(bus, timeout=2.0)
            assert not await notifier.available()
            await notifier.notify("critical", "summary", "body", "proj:1.0")
            return notifier
        finally:
            bus.disconnect()

    notifier = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert notifier.sent == 0 and notifier.failures == 1
