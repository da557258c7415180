"""sd_notify(3) for Type=notify: READY, STATUS, WATCHDOG, RELOADING, STOPPING. A no-op outside systemd.

Written here rather than taken from the ``sdnotify`` package because that one silently drops a
``STATUS=`` that is not Latin-1; ours keeps status text ASCII and reports send failures.
"""

from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger(__name__)


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii").replace("\n", " ")


class Notifier:
    """Sends sd_notify messages to ``$NOTIFY_SOCKET`` (or ``address``); without one, every call does nothing."""

    def __init__(self, address: str | None = None) -> None:
        self.address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        self.watchdog_usec = int(os.environ.get("WATCHDOG_USEC", "0") or 0)
        pid = os.environ.get("WATCHDOG_PID")
        if pid and pid.isdigit() and int(pid) != os.getpid():
            self.watchdog_usec = 0  # the watchdog is meant for another process
        self._sock: socket.socket | None = None
        self.failures = 0

    @property
    def enabled(self) -> bool:
        """True when there is a notification socket to send to."""
        return bool(self.address)

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between pings (half the watchdog timeout), or None when no watchdog is set."""
        return self.watchdog_usec / 2e6 if self.watchdog_usec else None

    def send(self, *fields: str) -> None:
        """Send ``fields`` (``KEY=value`` each) as one datagram; a failure is logged and counted, never raised."""
        if not self.address:
            return
        addr = self.address
        if addr.startswith("@"):
            addr = "\0" + addr[1:]
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto("\n".join(fields).encode("ascii", "replace"), addr)
        except OSError as exc:
            self.failures += 1
            log.debug("sd_notify failed: %s", exc)

    def ready(self, status: str) -> None:
        """Tell systemd the service is up (``READY=1``), with a status line and the main PID."""
        self.send("READY=1", "STATUS=" + _ascii(status), f"MAINPID={os.getpid()}")

    def status(self, status: str) -> None:
        """Set the status line that ``systemctl status`` shows (``STATUS=``)."""
        self.send("STATUS=" + _ascii(status))

    def watchdog(self) -> None:
        """Ping the watchdog (``WATCHDOG=1``)."""
        self.send("WATCHDOG=1")

    def reloading(self) -> None:
        """Tell systemd a reload started (``RELOADING=1`` with the monotonic time it asks for)."""
        monotonic_usec = int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6)
        self.send("RELOADING=1", f"MONOTONIC_USEC={monotonic_usec}")

    def stopping(self) -> None:
        """Tell systemd the service is stopping (``STOPPING=1``)."""
        self.send("STOPPING=1")
