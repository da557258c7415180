"""Failures the core reports to its clients; the D-Bus layer maps each to a contract error name."""


class MonitorError(Exception):
    """Base of every failure a client may be told about. The message is for a person."""


class NotFound(MonitorError, LookupError):
    """Nothing matches what the client named, such as an agent target (``Error.NotFound``)."""


class InvalidArgument(MonitorError, ValueError):
    """An argument is malformed, or names something this request does not apply to (``Error.InvalidArgument``)."""


class NotRunning(MonitorError):
    """The request needs monitoring to run, and it is stopped (``Error.NotRunning``)."""


class Busy(MonitorError):
    """The same work is already under way, such as a recovery of that agent (``Error.Busy``)."""


class PermissionDenied(MonitorError):
    """The caller may not do this (``Error.PermissionDenied``)."""


class Failed(MonitorError):
    """The request is valid but cannot be carried out now; the message says why (``Error.Failed``)."""
