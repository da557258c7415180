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

_BY_CLASS: tuple[tuple[type[BaseException], str], ...] = (
    (errors.NotFound, names.ERROR_NOT_FOUND),
    (errors.InvalidArgument, names.ERROR_INVALID_ARGUMENT),
    (errors.NotRunning, names.ERROR_NOT_RUNNING),
    (errors.Busy, names.ERROR_BUSY),
    (errors.PermissionDenied, names.ERROR_PERMISSION_DENIED),
    (errors.Failed, names.ERROR_FAILED),
)


def to_dbus_error(exc: BaseException, what: str) -> DBusError:
    if isinstance(exc, DBusError):
        return exc
    for cls, name in _BY_CLASS:
        if isinstance(exc, cls):
            return DBusError(name, str(exc))
    log.exception("%s failed unexpectedly", what, exc_info=exc)
    return DBusError(names.ERROR_FAILED, f"{what} failed: {type(exc).__name__}: {exc} (see the journal)")


def mapped(fn: F) -> F:
    """Decorate a D-Bus method so that no exception leaves it under a library-internal error name."""
    what = fn.__name__
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except Exception as exc:
                raise to_dbus_error(exc, what) from None

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise to_dbus_error(exc, what) from None

    return wrapper  # type: ignore[return-value]
