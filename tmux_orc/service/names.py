"""The public D-Bus names of the contract, as the daemon uses them (defined once in :mod:`tmux_orc.busnames`)."""

from __future__ import annotations

from tmux_orc.busnames import (
    AGENT_INTERFACE,
    AGENTS_PATH,
    BUS_NAME,
    ERROR_BUSY,
    ERROR_FAILED,
    ERROR_INVALID_ARGUMENT,
    ERROR_NOT_FOUND,
    ERROR_NOT_RUNNING,
    ERROR_PERMISSION_DENIED,
    ERROR_PREFIX,
    EVENT_SERVER_KEY,
    INTERFACE,
    OBJECT_PATH,
    agent_path,
    escape_path_element,
)

__all__ = [
    "AGENTS_PATH",
    "AGENT_INTERFACE",
    "BUS_NAME",
    "ERROR_BUSY",
    "ERROR_FAILED",
    "ERROR_INVALID_ARGUMENT",
    "ERROR_NOT_FOUND",
    "ERROR_NOT_RUNNING",
    "ERROR_PERMISSION_DENIED",
    "ERROR_PREFIX",
    "EVENT_SERVER_KEY",
    "INTERFACE",
    "OBJECT_PATH",
    "agent_path",
    "escape_path_element",
]
