"""The public D-Bus names of the contract, in one leaf module shared by the daemon, the clients and install.

It imports nothing from ``tmux_orc``, so every layer may use it.
"""

from __future__ import annotations

BUS_NAME = "org.tmuxorc.Monitor1"
OBJECT_PATH = "/org/tmuxorc/Monitor1"
INTERFACE = "org.tmuxorc.Monitor1"
AGENT_INTERFACE = "org.tmuxorc.Agent1"
AGENTS_PATH = OBJECT_PATH + "/agents"
ERROR_PREFIX = "org.tmuxorc.Monitor1.Error."

ERROR_NOT_FOUND = ERROR_PREFIX + "NotFound"
ERROR_INVALID_ARGUMENT = ERROR_PREFIX + "InvalidArgument"
ERROR_NOT_RUNNING = ERROR_PREFIX + "NotRunning"
ERROR_BUSY = ERROR_PREFIX + "Busy"
ERROR_PERMISSION_DENIED = ERROR_PREFIX + "PermissionDenied"
ERROR_FAILED = ERROR_PREFIX + "Failed"

#: The systemd user unit that owns :data:`BUS_NAME` (what install writes, what hints name).
UNIT_NAME = "tmux-orc.service"

#: ``ReportEvent`` detail naming the tmux server (its socket path) the reporting pane lives on.
EVENT_SERVER_KEY = "tmux_socket"


def escape_path_element(text: str) -> str:
    """An object-path element for any string: [A-Za-z0-9] kept, every other byte as ``_xx``.

    >>> escape_path_element("team:1.0")
    'team_3a1_2e0'
    >>> escape_path_element("")
    '_'
    """
    if not text:
        return "_"
    return "".join(
        chr(b) if chr(b).isascii() and chr(b).isalnum() else f"_{b:02x}" for b in text.encode("utf-8")
    )


def agent_path(agent_id: str) -> str:
    """The object path of the ``org.tmuxorc.Agent1`` object for ``agent_id``."""
    return f"{AGENTS_PATH}/{escape_path_element(agent_id)}"
