"""Map every failure of a D-Bus call to one of the contract's error names, with a message for a person."""

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from dbus_fast import DBusError

from tmux_orc.core import errors
from tmux_orc.service import names

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

MAX_MESSAGE = 400  # characters of an error message sent back (an argument quoted in it is cut)
_HEAD, _TAIL = 300, 80


def bounded(message: str) -> str:
    """``message`` cut to :data:`MAX_MESSAGE` characters, keeping its head and its tail (the hint)."""
    if len(message) <= MAX_MESSAGE:
        return message
    cut = len(message) - _HEAD - _TAIL
    return f"{message[:_HEAD]}… ({cut} characters left out) …{message[-_TAIL:]}"

_BY_CLASS: tuple[tuple[type[BaseException], str], ...] = (
    (errors.NotFound, names.ERROR_NOT_FOUND),
    (errors.InvalidArgument, names.ERROR_INVALID_ARGUMENT),
    (errors.NotRunning, names.ERROR_NOT_RUNNING),
    (errors.Busy, names.ERROR_BUSY),
    (errors.PermissionDenied, names.ERROR_PERMISSION_DENIED),
    (errors.Failed, names.ERROR_FAILED),
)


def to_dbus_error(exc: BaseException, what: str) -> DBusError:
    """The contract error for ``exc``, its message at most :data:`MAX_MESSAGE` characters."""
    if isinstance(exc, DBusError):
        text = exc.text or ""
        return exc if len(text) <= MAX_MESSAGE else DBusError(exc.type, bounded(text))
    for cls, name in _BY_CLASS:
        if isinstance(exc, cls):
            return DBusError(name, bounded(str(exc)))
    log.exception("%s failed unexpectedly", what, exc_info=exc)
    return DBusError(names.ERROR_FAILED, bounded(f"{what} failed: {type(exc).__name__}: {exc} (see the journal)"))


def mapped(fn: F) -> F:
    """Decorate a D-Bus method so that no exception leaves it under a library-internal error name."""
    what = fn.__name__
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - every failure becomes a contract error (logged there)
                raise to_dbus_error(exc, what) from None

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a contract error (logged there)
            raise to_dbus_error(exc, what) from None

    return wrapper  # type: ignore[return-value]
