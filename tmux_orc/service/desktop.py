"""Desktop notifications through ``org.freedesktop.Notifications`` (any notification server).

One notification per target: a new alert for the same agent replaces its earlier notification.
:meth:`DesktopNotifier.notify` never raises: failures are logged and counted.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections import OrderedDict

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from tmux_orc.core.alerts import sanitize

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
INTERFACE = "org.freedesktop.Notifications"
APP_NAME = "tmux-orc"
URGENCY = {"info": 0, "warning": 1, "critical": 2}
MAX_TARGETS = 256


class DesktopNotifier:
    """Shows alerts through the desktop's notification server, one notification per target."""

    def __init__(self, bus: MessageBus, timeout: float = 2.0) -> None:
        self.bus = bus
        self.timeout = timeout
        self.sent = 0
        self.failures = 0
        self._ids: OrderedDict[str, int] = OrderedDict()  # target -> id the server gave its notification
        self._markup: bool | None = None

    async def _call(self, destination: str, path: str, interface: str, member: str,
                    signature: str = "", body: list[object] | None = None) -> list[object]:
        async with asyncio.timeout(self.timeout):
            reply = await self.bus.call(Message(
                destination=destination, path=path, interface=interface, member=member,
                signature=signature, body=body or []))
        if reply is None or reply.message_type == MessageType.ERROR:
            detail = reply.body[0] if reply is not None and reply.body else ""
            name = reply.error_name if reply is not None else "no reply"
            raise RuntimeError(f"{member}: {name} {detail}".strip())
        return list(reply.body)

    async def _bus_call(self, member: str, signature: str = "", body: list[object] | None = None) -> object:
        result = await self._call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                  member, signature, body)
        return result[0]

    async def available(self) -> bool:
        """A notification server owns the name, or D-Bus can activate one."""
        try:
            if await self._bus_call("NameHasOwner", "s", [SERVICE]):
                return True
            names = await self._bus_call("ListActivatableNames")
            return isinstance(names, list) and SERVICE in names
        except Exception as exc:  # the bus itself is unhappy: no notifications, the daemon goes on
            log.debug("cannot ask the bus about %s: %s", SERVICE, exc, exc_info=exc)
            return False

    async def _supports_markup(self) -> bool:
        if self._markup is None:
            caps = (await self._call(SERVICE, PATH, INTERFACE, "GetCapabilities"))[0]
            self._markup = isinstance(caps, list) and "body-markup" in caps
        return self._markup

    async def notify(self, severity: str, summary: str, body: str, target: str) -> None:
        """Show (or replace) the notification for ``target``. Never raises."""
        try:
            await self._notify(severity, summary, body, target)
            self.sent += 1
        except Exception as exc:  # a missing or broken notification server must not stop the monitor
            self.failures += 1
            log.warning("desktop notification for %s failed: %s", target or "(no target)", exc)
            log.debug("desktop notification failure", exc_info=exc)

    async def _notify(self, severity: str, summary: str, body: str, target: str) -> None:
        text = sanitize(body, 1000)
        if await self._supports_markup():
            text = html.escape(text, quote=False)
        replaces = self._ids.get(target, 0) if target else 0
        hints = {"urgency": Variant("y", URGENCY.get(severity, 1))}
        result = await self._call(SERVICE, PATH, INTERFACE, "Notify", "susssasa{sv}i", [
            APP_NAME, replaces, "", sanitize(summary, 200), text, [], hints, -1])
        notification_id = result[0]
        if target and isinstance(notification_id, int):
            self._ids[target] = notification_id
            self._ids.move_to_end(target)
            while len(self._ids) > MAX_TARGETS:
                self._ids.popitem(last=False)
