"""Shared fixtures: a private tmux server per test, a private session bus per run, the daemon on both."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness.bus import PrivateBus
from tests.harness.daemon import DaemonProcess
from tests.harness.tmux import TmuxTestServer

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture
def tmux_srv(tmp_path: Path) -> Iterator[TmuxTestServer]:
    """A private tmux server (socket in the test's temp dir); killed after the test."""
    srv = TmuxTestServer(tmp_path)
    yield srv
    srv.kill()


@pytest.fixture(scope="session")
def session_bus() -> Iterator[PrivateBus]:
    """A private dbus-daemon --session for the whole run; never the user's bus."""
    bus = PrivateBus()
    previous = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = bus.address
    yield bus
    if previous is None:
        os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
    else:
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = previous
    bus.stop()


@pytest.fixture
def daemon(session_bus: PrivateBus, tmp_path: Path) -> Iterator[Callable[..., DaemonProcess]]:
    """Factory: ``daemon(tmux_srv, **settings)`` starts tmux-orcd and waits for its bus name."""
    started: list[DaemonProcess] = []

    def start(tmux: TmuxTestServer, wait: bool = True, **settings: Any) -> DaemonProcess:
        d = DaemonProcess(session_bus.address, tmux.socket, tmp_path, **settings)
        started.append(d)
        return d.start(wait=wait)

    yield start
    for d in started:
        d.stop()
