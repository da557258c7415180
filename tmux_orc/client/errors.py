"""The two ways a call to the daemon fails, and how a bus error name is told apart.

* :class:`DaemonUnreachable` (exit 3): no session bus, the name is not owned and cannot be activated,
  the daemon does not answer in time, or it left the bus mid-call;
* :class:`DaemonError` (exit 1): the daemon answered with an error (``org.tmuxorc.Monitor1.Error.*``).
"""

from __future__ import annotations

from tmux_orc.busnames import UNIT_NAME

START_HINT = f"start it with: systemctl --user start {UNIT_NAME}"
STATUS_HINT = f"check: systemctl --user status {UNIT_NAME}"

# Errors from the bus itself (not from our daemon) that mean "nobody is there to answer".
_UNREACHABLE_ERRORS = frozenset(
    {
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner",
        "org.freedesktop.DBus.Error.NoReply",
        "org.freedesktop.DBus.Error.Timeout",
        "org.freedesktop.DBus.Error.TimedOut",
        "org.freedesktop.DBus.Error.Disconnected",
        "org.freedesktop.DBus.Error.NoServer",
        "org.freedesktop.DBus.Error.NoNetwork",
    }
)


class DaemonUnreachable(Exception):
    """The daemon cannot be asked: the message says why and how to start it."""


class CommandFailed(Exception):
    """The daemon was reached but what the command asked for did not happen (exit 1)."""


class DaemonError(Exception):
    """The daemon answered a call with a D-Bus error."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message

    @property
    def short_name(self) -> str:
        """The error name's last part, e.g. ``NotFound`` for ``org.tmuxorc.Monitor1.Error.NotFound``."""
        return self.name.rsplit(".", 1)[-1]


def is_unreachable_error(name: str) -> bool:
    """Whether a D-Bus error name means the daemon is not there (rather than that it refused)."""
    return name in _UNREACHABLE_ERRORS or name.startswith("org.freedesktop.DBus.Error.Spawn.")


def unreachable_message(name: str, text: str) -> str:
    """What to tell a person when the bus answered ``name`` instead of the daemon."""
    short = name.rsplit(".", 1)[-1]
    if short in {"ServiceUnknown", "NameHasNoOwner"} or ".Spawn." in name:
        return f"the tmux-orc daemon is not running on this session bus ({text}); {START_HINT}"
    return f"the tmux-orc daemon did not answer ({short}: {text}); {STATUS_HINT}"
