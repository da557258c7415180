"""Where the session bus is, found as sd-bus finds it (``busctl --user``, gdbus).

``$DBUS_SESSION_BUS_ADDRESS`` when set, else ``unix:path=$XDG_RUNTIME_DIR/bus`` when that socket exists.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping

from tmux_orc.client.errors import START_HINT, DaemonUnreachable

_PLAIN = frozenset("-_/.\\*0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def escape_address_value(value: str) -> str:
    """A value for a D-Bus address (``key=value``): bytes outside the plain set as ``%xx``.

    >>> escape_address_value("/run/user/1000/bus")
    '/run/user/1000/bus'
    >>> escape_address_value("/tmp/a b,c")
    '/tmp/a%20b%2cc'
    """
    return "".join(
        chr(byte) if chr(byte) in _PLAIN else f"%{byte:02x}" for byte in os.fsencode(value)
    )


def runtime_bus_path(env: Mapping[str, str]) -> str | None:
    """``$XDG_RUNTIME_DIR/bus`` when ``XDG_RUNTIME_DIR`` is an absolute path, else None."""
    runtime = env.get("XDG_RUNTIME_DIR", "")
    return os.path.join(runtime, "bus") if runtime.startswith("/") else None


def session_bus_address(env: Mapping[str, str] | None = None) -> str:
    """The session bus address a client should connect to; :class:`DaemonUnreachable` when there is none."""
    env = os.environ if env is None else env
    address = env.get("DBUS_SESSION_BUS_ADDRESS", "").strip()
    if address:
        return address
    path = runtime_bus_path(env)
    if path is not None and _is_socket(path):
        return f"unix:path={escape_address_value(path)}"
    where = f"there is no socket at {path}" if path is not None else "XDG_RUNTIME_DIR is not set either"
    raise DaemonUnreachable(
        f"no session bus: DBUS_SESSION_BUS_ADDRESS is not set and {where} "
        f"(run from a login session, or export DBUS_SESSION_BUS_ADDRESS); then {START_HINT}"
    )


def _is_socket(path: str) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False
