"""The bus guards: EAGAIN-tolerant writes and the in-flight call limits, without a bus."""

from __future__ import annotations

import socket
from typing import Any

from dbus_fast import Message, MessageFlag, MessageType

from tmux_orc.service import names
from tmux_orc.service.bus import NonBlockingSend, guard_writer
from tmux_orc.service.dbus_guard import CallLimiter


def _call(sender: str, serial: int, one_way: bool = False) -> Message:
    flags = MessageFlag.NO_REPLY_EXPECTED if one_way else MessageFlag.NONE
    msg = Message(path=names.OBJECT_PATH, interface=names.INTERFACE, member="GetStatus", serial=serial,
                  flags=flags)
    msg.sender = sender
    return msg


def test_a_full_socket_sends_nothing_instead_of_raising() -> None:
    left, right = socket.socketpair()
    left.setblocking(False)
    guarded = NonBlockingSend(left)
    sent = 0
    try:
        while True:
            n = guarded.send(b"x" * 65536)
            if n == 0:
                break
            sent += n
        assert sent > 0 and guarded.send(b"more") == 0  # full: 0 bytes, no BlockingIOError
        assert guarded.fileno() == left.fileno()  # everything else is the socket's
    finally:
        left.close()
        right.close()


class _Writer:
    def __init__(self, sock: socket.socket) -> None:
        self.sock: Any = sock


class _Bus:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._writer = _Writer(sock)


def test_guard_writer_wraps_the_writers_socket_and_refuses_an_unknown_layout() -> None:
    left, right = socket.socketpair()
    try:
        bus = _Bus(left)
        assert guard_writer(bus) and isinstance(bus._writer.sock, NonBlockingSend)
        other = _Bus(left)
        other._writer.sock = right  # not the bus's socket: dbus-fast changed, leave it alone
        assert not guard_writer(other) and other._writer.sock is right
    finally:
        left.close()
        right.close()


def test_per_client_limit_answers_busy_and_frees_with_replies() -> None:
    limiter = CallLimiter(per_client=3, overall=100)
    assert all(limiter.handle(_call(":1.5", n)) is None for n in range(1, 4))
    refused = limiter.handle(_call(":1.5", 4))
    assert isinstance(refused, Message) and refused.message_type is MessageType.ERROR
    assert refused.error_name == names.ERROR_BUSY
    assert limiter.handle(_call(":1.6", 1)) is None  # another client is not held back
    limiter.reply_sent(":1.5", 1)
    assert limiter.handle(_call(":1.5", 5)) is None
    assert limiter.in_flight == 4


def test_overall_limit() -> None:
    limiter = CallLimiter(per_client=10, overall=4)
    for n in range(4):
        assert limiter.handle(_call(f":1.{n}", 1)) is None
    assert isinstance(limiter.handle(_call(":1.9", 1)), Message)
    for n in range(4):
        limiter.reply_sent(f":1.{n}", 1)
    assert limiter.in_flight == 0 and limiter.handle(_call(":1.9", 2)) is None


def test_one_way_calls_are_not_counted_and_dropped_when_over() -> None:
    limiter = CallLimiter(per_client=1, overall=10)
    assert limiter.handle(_call(":1.5", 1, one_way=True)) is None and limiter.in_flight == 0
    assert limiter.handle(_call(":1.5", 2)) is None
    assert limiter.handle(_call(":1.5", 3, one_way=True)) is True  # nothing to answer: dropped


def test_calls_never_answered_stop_counting_after_a_while() -> None:
    now = [0.0]
    limiter = CallLimiter(per_client=2, overall=10, clock=lambda: now[0], stale_after=60)
    limiter.handle(_call(":1.5", 1))
    limiter.handle(_call(":1.5", 2))
    assert isinstance(limiter.handle(_call(":1.5", 3)), Message)
    now[0] = 61.0
    assert limiter.handle(_call(":1.5", 4)) is None and limiter.in_flight == 1


def test_a_backlog_of_unwritten_replies_answers_busy() -> None:
    waiting = [0]
    limiter = CallLimiter(backlog=lambda: waiting[0], max_backlog=10)
    assert limiter.handle(_call(":1.5", 1)) is None
    waiting[0] = 10
    refused = limiter.handle(_call(":1.5", 2))
    assert isinstance(refused, Message) and refused.error_name == names.ERROR_BUSY
    assert limiter.handle(Message.new_signal("/x", "a.b", "C")) is None  # only calls are limited
