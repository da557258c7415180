"""Bus message handlers that run before the interface: argument types, and how many calls are in flight.

- :func:`signature_guard` answers calls with the wrong argument types with the contract's
  InvalidArgument, not UnknownMethod.
- :class:`CallLimiter` answers ``Busy`` at once when one client, or all clients together, have too many
  calls not answered yet (calls that wait on something, like Reload), or when too many replies wait to be
  written to the bus socket, so that a flood of calls cannot grow the daemon's work or its queue of
  replies without bound.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from dbus_fast import Message, MessageFlag, MessageType
from dbus_fast.service import ServiceInterface

from tmux_orc.service import names

PER_CLIENT_IN_FLIGHT = 64  # calls of one connection not yet answered
OVERALL_IN_FLIGHT = 1024  # calls of all connections together not yet answered
MAX_BACKLOG = 2048  # replies and signals queued but not yet written to the bus socket
STALE_AFTER = 120.0  # seconds: a call still counted after this was answered some way we did not see


def signature_guard(interface: ServiceInterface, path: str) -> Callable[[Message], Message | None]:
    """A bus message handler that rejects a known method called with the wrong signature."""
    expected = {
        method.name: "".join(str(arg.signature) for arg in method.in_args)
        for method in interface.introspect().methods
    }

    def handle(msg: Message) -> Message | None:
        if (
            msg.message_type is MessageType.METHOD_CALL
            and msg.path == path
            and msg.interface in (interface.name, None)
            and msg.member in expected
            and msg.signature != expected[msg.member]
        ):
            want = expected[msg.member] or "no arguments"
            return Message.new_error(
                msg, names.ERROR_INVALID_ARGUMENT,
                f"{msg.member} takes ({want}), not ({msg.signature or 'no arguments'})",
            )
        return None

    return handle


class CallLimiter:
    """Counts each client's unanswered calls; over a limit, the next call is answered ``Busy`` at once.

    ``handle`` is a bus message handler (install it first); ``reply_sent`` must be told of every reply
    the bus queues (``GuardedBus.on_reply_sent``); ``backlog`` says how many messages wait to be written.
    """

    def __init__(self, per_client: int = PER_CLIENT_IN_FLIGHT, overall: int = OVERALL_IN_FLIGHT,
                 clock: Callable[[], float] = time.monotonic, stale_after: float = STALE_AFTER,
                 backlog: Callable[[], int] = lambda: 0, max_backlog: int = MAX_BACKLOG) -> None:
        self.per_client = per_client
        self.overall = overall
        self.backlog = backlog
        self.max_backlog = max_backlog
        self.clock = clock
        self.stale_after = stale_after
        self.refused = 0
        self._in_flight: dict[str, dict[int, float]] = {}
        self._total = 0

    @property
    def in_flight(self) -> int:
        """Calls received and not answered yet, all clients together."""
        return self._total

    def handle(self, msg: Message) -> Message | bool | None:
        """None to let the call through; a Busy error to answer it with; True to drop a one-way call."""
        if msg.message_type is not MessageType.METHOD_CALL or not msg.sender:
            return None
        sender = msg.sender
        waiting = self.backlog()
        if waiting >= self.max_backlog:
            self.refused += 1
            if MessageFlag.NO_REPLY_EXPECTED in msg.flags:
                return True
            return Message.new_error(msg, names.ERROR_BUSY, f"{waiting} replies wait to be read from the daemon; "
                                     "retry once they are")
        calls = self._in_flight.get(sender)
        if (calls is not None and len(calls) >= self.per_client) or self._total >= self.overall:
            self._prune()
            calls = self._in_flight.get(sender)
            mine = len(calls) if calls is not None else 0
            if mine >= self.per_client or self._total >= self.overall:
                self.refused += 1
                if MessageFlag.NO_REPLY_EXPECTED in msg.flags:
                    return True  # nothing to answer; dropped
                return Message.new_error(
                    msg, names.ERROR_BUSY,
                    f"too many calls in flight ({mine} from {sender}, {self._total} in all; limits "
                    f"{self.per_client} / {self.overall}); retry once earlier calls are answered",
                )
        if MessageFlag.NO_REPLY_EXPECTED in msg.flags:
            return None  # no reply will come to end it: not counted
        self._in_flight.setdefault(sender, {})[msg.serial] = self.clock()
        self._total += 1
        return None

    def reply_sent(self, destination: str, serial: int) -> None:
        """A reply to call ``serial`` of ``destination`` was written: it no longer counts."""
        calls = self._in_flight.get(destination)
        if calls is not None and calls.pop(serial, None) is not None:
            self._total -= 1
            if not calls:
                del self._in_flight[destination]

    def _prune(self) -> None:
        cutoff = self.clock() - self.stale_after
        for sender in list(self._in_flight):
            calls = self._in_flight[sender]
            for serial in [s for s, at in calls.items() if at < cutoff]:
                del calls[serial]
                self._total -= 1
            if not calls:
                del self._in_flight[sender]
