"""Failures the core reports to its clients; the D-Bus layer maps each to a contract error name."""


class MonitorError(Exception):
    """Base of every failure a client may be told about. The message is for a person."""


class NotFound(MonitorError, LookupError):
    pass


class InvalidArgument(MonitorError, ValueError):
    pass


class NotRunning(MonitorError):
    pass


class Busy(MonitorError):
    pass


class PermissionDenied(MonitorError):
    pass


class Failed(MonitorError):
    pass
