"""The one way clients (the CLI, the demo, hooks) reach the daemon: method calls and signal subscriptions.

A :class:`MonitorClient` is an async context manager around one dbus-fast connection. Every call has a
timeout, and every failure is one of the two exceptions of :mod:`tmux_orc.client.errors`, which the
command layer turns into an exit status.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from dbus_fast import Message, MessageFlag, MessageType, Variant
from dbus_fast.aio import MessageBus

from tmux_orc.busnames import BUS_NAME, INTERFACE, OBJECT_PATH
from tmux_orc.client.address import session_bus_address
from tmux_orc.client.errors import (
    STATUS_HINT,
    DaemonError,
    DaemonUnreachable,
    is_unreachable_error,
    unreachable_message,
)
from tmux_orc.payloads import AgentKindInfo, Explanation, RolloutInfo, Status

DEFAULT_TIMEOUT = 10.0


def call_timeout() -> float:
    """Seconds a single D-Bus call may take (``TMUX_ORC_CLI_TIMEOUT`` overrides the default)."""
    try:
        value = float(os.environ.get("TMUX_ORC_CLI_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT
    return value if value > 0 else DEFAULT_TIMEOUT

_DBUS_NAME = "org.freedesktop.DBus"
_DBUS_PATH = "/org/freedesktop/DBus"
UNKNOWN_METHOD = "org.freedesktop.DBus.Error.UnknownMethod"


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

    def __init__(
        self, *, address: str | None = None, timeout: float = DEFAULT_TIMEOUT, auto_start: bool = True
    ) -> None:
        self.address = address  # None: found when connecting (see client.address)
        self.timeout = timeout
        self.auto_start = auto_start  # False: never let the bus activate the daemon for a call
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
        """Connect to the session bus (raises :class:`DaemonUnreachable` when there is none)."""
        if not self.address:
            self.address = session_bus_address()
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
        """Leave the bus (safe to call twice)."""
        if self._bus is not None:
            self._bus.disconnect()
            self._bus = None

    @property
    def bus(self) -> MessageBus:
        """The connected dbus-fast bus."""
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
            flags=MessageFlag.NONE if self.auto_start else MessageFlag.NO_AUTOSTART,
        )
        reply = await self._send(message, what=f"{member}()")
        if reply.message_type is MessageType.ERROR:
            name = reply.error_name or "org.freedesktop.DBus.Error.Failed"
            text = str(reply.body[0]) if reply.body else name
            if is_unreachable_error(name):
                raise DaemonUnreachable(unreachable_message(name, text))
            raise DaemonError(name, text)
        return [to_plain(value) for value in reply.body]

    async def call_one(self, member: str, signature: str = "", body: Sequence[Any] = ()) -> Any:
        """Call a method that returns one value (or nothing: ``None``)."""
        values = await self.call(member, signature, body)
        return values[0] if values else None

    # --- the typed replies (tmux_orc.payloads: the classes the daemon builds them from) -------------
    async def status(self) -> Status:
        """``GetStatus``."""
        return Status.from_mapping(await self.call_one("GetStatus") or {})

    async def explanation(self, target: str) -> Explanation:
        """``Explain(target)``."""
        return Explanation.from_mapping(await self.call_one("Explain", "s", [target]) or {})

    async def rollout(self) -> RolloutInfo:
        """``GetRollout``."""
        return RolloutInfo.from_mapping(await self.call_one("GetRollout") or {})

    async def agent_kinds(self) -> list[AgentKindInfo]:
        """``ListAgentKinds``."""
        return [AgentKindInfo.from_mapping(k) for k in await self.call_one("ListAgentKinds") or []]

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
        """Whether the daemon's name is owned on the bus right now."""
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
                f"the daemon did not answer {what} within {self.timeout:g} s (is it hung?); {STATUS_HINT}"
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

