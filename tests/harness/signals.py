"""Record the daemon's D-Bus signals from a background thread, as a desktop tool would see them."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

from tmux_orc import busnames as names


class SignalRecorder:
    def __init__(self, address: str, sender: str = names.BUS_NAME) -> None:
        self.address = address
        self.rule = f"type='signal',sender='{sender}'"
        self.seen: list[tuple[str, str, list[Any]]] = []  # (path, member, body)
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SignalRecorder:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("signal recorder did not connect")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        bus = await MessageBus(bus_address=self.address).connect()
        await bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                               interface="org.freedesktop.DBus", member="AddMatch", signature="s", body=[self.rule]))

        def on_message(msg: Message) -> None:
            if msg.message_type is MessageType.SIGNAL:
                with self._lock:
                    self.seen.append((msg.path or "", msg.member or "", list(msg.body)))

        bus.add_message_handler(on_message)
        self._ready.set()
        await self._stop.wait()
        bus.disconnect()

    def of(self, member: str) -> list[list[Any]]:
        with self._lock:
            return [body for _, m, body in self.seen if m == member]

    def wait_for(self, member: str, match: Callable[[list[Any]], bool] = lambda b: True,
                 timeout: float = 20.0) -> list[Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for body in self.of(member):
                if match(body):
                    return body
            time.sleep(0.05)
        raise AssertionError(f"no {member} signal matching within {timeout}s; seen: "
                             f"{[(m, b) for _, m, b in self.seen][-15:]}")
