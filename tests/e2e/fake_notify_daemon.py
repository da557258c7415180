"""A minimal Type=notify service used to check the e2e harness itself (not the product).

It reports READY=1 and STATUS=, pings the watchdog at half of WATCHDOG_USEC, logs with syslog priority
prefixes, reloads on SIGHUP (RELOADING=1 then READY=1) and exits 78 when FAKE_EXIT_CONFIG is set.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time


def notify(message: str) -> None:
    """Send one sd_notify datagram; a no-op outside systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(message.encode(), address)


def main() -> int:
    if os.environ.get("FAKE_EXIT_CONFIG"):
        print("<3>invalid setting FAKE_EXIT_CONFIG", file=sys.stderr, flush=True)
        return 78
    reloads = 0

    def on_hup(_signum: int, _frame: object) -> None:
        nonlocal reloads
        reloads += 1
        notify(f"RELOADING=1\nMONOTONIC_USEC={time.monotonic_ns() // 1000}")
        print(f"<6>reloaded {reloads}", file=sys.stderr, flush=True)
        notify(f"READY=1\nSTATUS=fake reloaded {reloads}")

    def on_term(_signum: int, _frame: object) -> None:
        notify("STOPPING=1")
        sys.exit(0)

    signal.signal(signal.SIGHUP, on_hup)
    signal.signal(signal.SIGTERM, on_term)
    print("<6>fake daemon up", file=sys.stderr, flush=True)
    print("<4>fake warning line", file=sys.stderr, flush=True)
    notify("READY=1\nSTATUS=fake daemon running")
    watchdog_usec = int(os.environ.get("WATCHDOG_USEC", "0"))
    period = watchdog_usec / 2e6 if watchdog_usec else 1.0
    while True:
        time.sleep(period)
        if watchdog_usec:
            notify("WATCHDOG=1")


if __name__ == "__main__":
    sys.exit(main())
