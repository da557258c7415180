"""The CLI's only way to the daemon: method calls and signal subscriptions on the session bus.

A :class:`MonitorClient` is an async context manager around one dbus-fast connection. Every call has a
timeout, and every failure is one of two exceptions the command layer turns into an exit status:

* :class:`DaemonUnreachable` (exit 3): no session bus, the name is not owned and cannot be activated,
  the daemon does not answer in time, or it left the bus mid-call;
* :class:`DaemonError` (exit 1): the daemon answered with an error (``org.tmuxorc.Monitor1.Error.*``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

BUS_NAME = "org.tmuxorc.Monitor1"
OBJECT_PATH = "/org/tmuxorc/Monitor1"
INTERFACE = "org.tmuxorc.Monitor1"
ERROR_PREFIX = "org.tmuxorc.Monitor1.Error."
UNIT_NAME = "tmux-orc"

DEFAULT_TIMEOUT = 10.0
START_HINT = f"start it with: systemctl --user start {UNIT_NAME}"

_DBUS_NAME = "org.freedesktop.DBus"
_DBUS_PATH = "/org/freedesktop/DBus"
UNKNOWN_METHOD = "org.freedesktop.DBus.Error.UnknownMethod"

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


def to_plain(value: Any) -> Any:
    """Unpack D-Bus values (variants, structs, byte arrays) into plain JSON-able Python values."""
    if isinstance(value, Variant):
        return to_plain(value.value)
    if isinstance(value, dict):
        return {str(key): to_plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(item) for item in value]
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    return value


def string_variants(values: dict[str, str]) -> dict[str, Variant]:
    """An ``a{sv}`` argument of strings."""
    return {key: Variant("s", value) for key, value in values.items()}


@dataclass(frozen=True, slots=True)
class Signal:
    """One signal received from the daemon's interface."""

    member: str
    args: list[Any]


SignalHandler = Callable[[Signal], None]


class MonitorClient:
    """One connection to the session bus, talking to ``org.tmuxorc.Monitor1``.

    >>> async def show() -> None:  # doctest: +SKIP
    ...     async with MonitorClient() as client:
    ...         print(await client.call("GetStatus"))
    """

    def __init__(self, *, address: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.address = address if address is not None else os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
        self.timeout = timeout
        self._bus: MessageBus | None = None
        self._signal_handlers: list[tuple[set[str], SignalHandler]] = []
        self.daemon_left = asyncio.Event()

    async def __aenter__(self) -> MonitorClient:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def connect(self) -> None:
        if not self.address:
            raise DaemonUnreachable(
                "no session bus: DBUS_SESSION_BUS_ADDRESS is not set "
                f"(run from a desktop or login session, or export it); then {START_HINT}"
            )
        try:
            bus = MessageBus(bus_address=self.address)
            self._bus = await asyncio.wait_for(bus.connect(), self.timeout)
        except TimeoutError:
            raise DaemonUnreachable(
                f"the session bus at {self.address} did not answer within {self.timeout:g} s"
            ) from None
        except Exception as exc:  # noqa: BLE001 - dbus-fast raises OSError, AuthError, InvalidAddressError, ...
            raise DaemonUnreachable(f"cannot connect to the session bus at {self.address}: {exc}") from None
        self._bus.add_message_handler(self._dispatch_signal)

    def close(self) -> None:
        if self._bus is not None:
            self._bus.disconnect()
            self._bus = None

    @property
    def bus(self) -> MessageBus:
        if self._bus is None:
            raise RuntimeError("MonitorClient is not connected")
        return self._bus

    async def call(self, member: str, signature: str = "", body: Sequence[Any] = ()) -> list[Any]:
        """Call a method of the main object and return its reply values, variants unpacked."""
        message = Message(
            destination=BUS_NAME,
            path=OBJECT_PATH,
            interface=INTERFACE,
            member=member,
            signature=signature,
            body=list(body),
        )
        reply = await self._send(message, what=f"{member}()")
        if reply.message_type is MessageType.ERROR:
            name = reply.error_name or "org.freedesktop.DBus.Error.Failed"
            text = str(reply.body[0]) if reply.body else name
            if is_unreachable_error(name):
                raise DaemonUnreachable(_unreachable_message(name, text))
            raise DaemonError(name, text)
        return [to_plain(value) for value in reply.body]

    async def call_one(self, member: str, signature: str = "", body: Sequence[Any] = ()) -> Any:
        """Call a method that returns one value (or nothing: ``None``)."""
        values = await self.call(member, signature, body)
        return values[0] if values else None

    async def subscribe(self, members: set[str], handler: SignalHandler) -> None:
        """Deliver the daemon's signals named in ``members`` to ``handler`` (call before the method
        whose outcome they report, so none is missed). Also watches the daemon leaving the bus."""
        self._signal_handlers.append((members, handler))
        rules = [
            f"type='signal',sender='{BUS_NAME}',path='{OBJECT_PATH}',interface='{INTERFACE}',member='{member}'"
            for member in sorted(members)
        ]
        rules.append(
            f"type='signal',sender='{_DBUS_NAME}',interface='{_DBUS_NAME}',member='NameOwnerChanged',arg0='{BUS_NAME}'"
        )
        for rule in rules:
            message = Message(
                destination=_DBUS_NAME,
                path=_DBUS_PATH,
                interface=_DBUS_NAME,
                member="AddMatch",
                signature="s",
                body=[rule],
            )
            reply = await self._send(message, what="AddMatch")
            if reply.message_type is MessageType.ERROR:
                raise DaemonUnreachable(f"the session bus refused a signal subscription: {reply.body}")

    async def name_has_owner(self) -> bool:
        message = Message(
            destination=_DBUS_NAME,
            path=_DBUS_PATH,
            interface=_DBUS_NAME,
            member="NameHasOwner",
            signature="s",
            body=[BUS_NAME],
        )
        reply = await self._send(message, what="NameHasOwner")
        return bool(reply.message_type is MessageType.METHOD_RETURN and reply.body and reply.body[0])

    async def _send(self, message: Message, *, what: str) -> Message:
        try:
            return await asyncio.wait_for(self.bus.call(message), self.timeout)
        except TimeoutError:
            raise DaemonUnreachable(
                f"the daemon did not answer {what} within {self.timeout:g} s (is it hung?); "
                f"check: systemctl --user status {UNIT_NAME}"
            ) from None
        except (OSError, EOFError) as exc:
            raise DaemonUnreachable(f"lost the session bus connection: {exc}") from None

    def _dispatch_signal(self, message: Message) -> None:
        if message.message_type is not MessageType.SIGNAL:
            return
        if message.member == "NameOwnerChanged" and message.interface == _DBUS_NAME:
            if len(message.body) == 3 and message.body[0] == BUS_NAME and not message.body[2]:
                self.daemon_left.set()
            return
        if message.interface != INTERFACE or message.path != OBJECT_PATH or message.member is None:
            return
        signal = Signal(member=message.member, args=[to_plain(arg) for arg in message.body])
        for members, handler in self._signal_handlers:
            if signal.member in members:
                handler(signal)


def _unreachable_message(name: str, text: str) -> str:
    short = name.rsplit(".", 1)[-1]
    if short in {"ServiceUnknown", "NameHasNoOwner"} or ".Spawn." in name:
        return f"the tmux-orc daemon is not running on this session bus ({text}); {START_HINT}"
    return f"the tmux-orc daemon did not answer ({short}: {text}); check: systemctl --user status {UNIT_NAME}"
