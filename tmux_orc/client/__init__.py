"""The client package: how the CLI, the demo and agent hooks reach the ``tmux-orcd`` daemon over D-Bus."""

from tmux_orc.client.address import session_bus_address
from tmux_orc.client.bus import (
    DEFAULT_TIMEOUT,
    UNKNOWN_METHOD,
    MonitorClient,
    Signal,
    SignalHandler,
    call_timeout,
    string_variants,
    to_plain,
)
from tmux_orc.client.errors import (
    START_HINT,
    CommandFailed,
    DaemonError,
    DaemonUnreachable,
    is_unreachable_error,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "START_HINT",
    "UNKNOWN_METHOD",
    "CommandFailed",
    "DaemonError",
    "DaemonUnreachable",
    "MonitorClient",
    "Signal",
    "SignalHandler",
    "call_timeout",
    "is_unreachable_error",
    "session_bus_address",
    "string_variants",
    "to_plain",
]
