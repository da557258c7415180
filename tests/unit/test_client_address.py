"""The session bus found as sd-bus finds it: $DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tmux_orc.client import DaemonUnreachable, session_bus_address
from tmux_orc.client.address import escape_address_value


def test_the_address_variable_wins(tmp_path: Path) -> None:
    env = {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/x", "XDG_RUNTIME_DIR": str(tmp_path)}
    assert session_bus_address(env) == "unix:path=/x"


def test_runtime_dir_bus_socket(tmp_path: Path) -> None:
    runtime = tmp_path / "run user"
    runtime.mkdir()
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(runtime / "bus"))
        address = session_bus_address({"XDG_RUNTIME_DIR": str(runtime), "DBUS_SESSION_BUS_ADDRESS": ""})
    assert address == f"unix:path={escape_address_value(str(runtime))}/bus"
    assert "%20" in address


@pytest.mark.parametrize("make_file", [False, True])
def test_no_bus_is_one_clear_line(tmp_path: Path, make_file: bool) -> None:
    if make_file:
        (tmp_path / "bus").write_text("not a socket")
    with pytest.raises(DaemonUnreachable) as failed:
        session_bus_address({"XDG_RUNTIME_DIR": str(tmp_path)})
    message = str(failed.value)
    assert "DBUS_SESSION_BUS_ADDRESS is not set" in message and f"there is no socket at {tmp_path}/bus" in message
    assert "\n" not in message
    with pytest.raises(DaemonUnreachable, match="XDG_RUNTIME_DIR is not set either"):
        session_bus_address({})
