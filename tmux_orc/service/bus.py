"""The daemon's bus connection: dbus-fast's asyncio bus, kept alive when the socket is momentarily full.

dbus-fast (5.2.0, the newest release as of 2026-12) closes the whole connection when a write to the bus
socket fails with EAGAIN. Its writer tries to send at once when a message is queued and nothing else is
waiting in its queue, even when the previous message is still only partly written and the socket is
full; ``socket.send`` then raises ``BlockingIOError`` and the writer's catch-all finalizes the bus. The
same defect, in the library dbus-fast was forked from, is altdesktop/python-dbus-next issue #153 ("Aio
write_callback terminates connection upon EAGAIN error instead of ignoring this error and retrying"),
with the unmerged fix in pull request #154. Under a burst of calls (50 connections x 40 parallel
``ListAgents``) the daemon lost its bus in 2 runs of 3.

The guard here gives the writer a socket whose ``send`` reports "0 bytes sent" instead of raising when
the socket would block. The writer already treats a short write as "wait until writable" (it keeps the
rest of the message and registers for writability), so nothing is lost and nothing else changes. Remove
it once dbus-fast handles EAGAIN itself.

The bus also reports every reply as it is queued (``on_reply_sent``) and how many messages wait to be
written (``backlog``), which the call limiter in :mod:`tmux_orc.service.dbus_guard` uses to know how many
calls of each client are unanswered and whether replies pile up.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import Any

from dbus_fast import Message, MessageType

from tmux_orc.service.dbus_agents import TmuxOrcBus

log = logging.getLogger(__name__)

ReplySent = Callable[[str, int], None]  # (destination, reply_serial)
_REPLIES = (MessageType.METHOD_RETURN, MessageType.ERROR)


class NonBlockingSend:
    """A socket whose ``send`` returns 0 when the socket is full (EAGAIN), rather than raising."""

    __slots__ = ("_sock",)

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def send(self, data: Any) -> int:
        """Send what fits; 0 when nothing fits right now (the writer waits for writability then)."""
        try:
            return self._sock.send(data)
        except (BlockingIOError, InterruptedError):
            return 0

    def __getattr__(self, name: str) -> Any:
        # Everything else (sendmsg for file descriptors, which this daemon never negotiates) is the socket's.
        return getattr(self._sock, name)


class GuardedBus(TmuxOrcBus):
    """The daemon's bus: EAGAIN-tolerant writes, a hook told of every reply queued, the write backlog."""

    on_reply_sent: ReplySent | None = None

    async def connect(self) -> GuardedBus:
        """Connect, then guard the writer's socket (logged, and left as it is, if dbus-fast changed)."""
        await super().connect()
        guard_writer(self)
        return self

    def send(self, msg: Message) -> asyncio.Future[None]:  # type: ignore[override]  # aio's send returns it
        """Queue ``msg``; a reply is reported to ``on_reply_sent`` at once.

        (At once, not when written: dbus-fast handles every call already read in one go, so callbacks
        of the written replies would only run after the whole batch.)
        """
        future: asyncio.Future[None] = super().send(msg)
        hook = self.on_reply_sent
        if hook is not None and msg.message_type in _REPLIES and msg.destination and msg.reply_serial:
            hook(msg.destination, msg.reply_serial)
        return future

    def backlog(self) -> int:
        """Messages queued but not completely written to the bus socket yet (0 when unknown)."""
        writer = getattr(self, "_writer", None)
        queued = getattr(writer, "messages", ())
        partial = getattr(writer, "buf", None) is not None
        return len(queued) + int(partial)


def guard_writer(bus: Any) -> bool:
    """Give ``bus``'s writer the EAGAIN-tolerant socket; False (and a warning) when it has no such writer."""
    writer = getattr(bus, "_writer", None)
    sock = getattr(bus, "_sock", None)
    if writer is None or not isinstance(sock, socket.socket) or getattr(writer, "sock", None) is not sock:
        # The guard adapts to dbus-fast's internals; with a changed library the bus runs unguarded.
        log.warning("dbus-fast's bus writer is not the one this daemon knows (dbus-fast changed?); "
                    "a burst of calls may close the bus connection")
        return False
    writer.sock = NonBlockingSend(sock)  # type: ignore[arg-type]  # narrowed by the isinstance above
    return True
