"""The public D-Bus names of the contract, in one place (the CLI reads them from here too)."""

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
    return f"{AGENTS_PATH}/{escape_path_element(agent_id)}"
