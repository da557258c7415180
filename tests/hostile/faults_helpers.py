"""Shared pieces of the fault probes: raw D-Bus bursts, reply classification, a team of stand-in agents."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

from tests.harness.tmux import TmuxTestServer
from tmux_orc.service import names

STANDIN = str(Path(__file__).resolve().parents[1] / "harness" / "bin" / "claude")

# Standard bus errors a client may get for a call the daemon never saw or could not answer in time.
BUS_ERRORS = frozenset({
    "org.freedesktop.DBus.Error.NoReply",
    "org.freedesktop.DBus.Error.LimitsExceeded",
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.UnknownMethod",
    "org.freedesktop.DBus.Error.UnknownObject",
    "org.freedesktop.DBus.Error.UnknownInterface",
    "org.freedesktop.DBus.Error.UnknownProperty",
    "org.freedesktop.DBus.Error.PropertyReadOnly",
    "org.freedesktop.DBus.Error.InvalidArgs",
    "org.freedesktop.DBus.Error.InvalidSignature",
    "org.freedesktop.DBus.Error.AccessDenied",
    "org.freedesktop.DBus.Error.NotSupported",
})


def team(tmux: TmuxTestServer, agents: int = 8) -> None:
    """A session of idle stand-in agents, so that replies carry real agent dicts."""
    tmux.new_session("team", "Claude-pm", f"bash --norc -c '{STANDIN} idle; exec bash'")
    for n in range(1, agents):
        tmux.new_window("team", f"Claude-dev{n}", f"bash --norc -c '{STANDIN} idle; exec bash'")


def outcome(reply: Message | BaseException) -> str:
    """"ok", the error name of an error reply, or the exception's class name."""
    if isinstance(reply, BaseException):
        return type(reply).__name__
    if reply.message_type is MessageType.ERROR:
        return reply.error_name or "?"
    return "ok"


def acceptable(name: str) -> bool:
    """A reply, a contract error or a standard bus error: what every call may end in."""
    return name == "ok" or name.startswith(names.ERROR_PREFIX) or name in BUS_ERRORS


def monitor_call(member: str, signature: str = "", body: Iterable[Any] = ()) -> Message:
    """A method call to the Monitor1 object, exactly as given (no client-side checks)."""
    return Message(destination=names.BUS_NAME, path=names.OBJECT_PATH, interface=names.INTERFACE,
                   member=member, signature=signature, body=list(body))


async def _one_client(address: str, calls: int, member: str, timeout: float) -> list[str]:
    bus = await MessageBus(bus_address=address).connect()
    try:
        async def one() -> Message | BaseException:
            try:
                reply = await asyncio.wait_for(bus.call(monitor_call(member)), timeout)
            except Exception as exc:  # noqa: BLE001 - a timeout or a dropped connection is counted, not raised
                return exc
            return reply if reply is not None else RuntimeError("no reply")
        replies = await asyncio.gather(*(one() for _ in range(calls)))
    finally:
        bus.disconnect()
    return [outcome(r) for r in replies]


async def burst(address: str, clients: int = 50, calls: int = 40, member: str = "ListAgents",
                timeout: float = 60.0) -> Counter[str]:
    """``clients`` connections, each with ``calls`` calls in flight at once; the outcomes counted."""
    results = await asyncio.gather(*(_one_client(address, calls, member, timeout) for _ in range(clients)))
    return Counter(name for per_client in results for name in per_client)
