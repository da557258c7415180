"""A private session bus per test session, and busctl as the client users type."""

from __future__ import annotations

import json
import os
import subprocess
import time
from typing import Any

from tmux_orc import busnames as names


class PrivateBus:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        assert self.proc.stdout is not None
        self.address = self.proc.stdout.readline().strip()
        if not self.address:
            raise RuntimeError("dbus-daemon did not print its address")

    def env(self) -> dict[str, str]:
        return {"DBUS_SESSION_BUS_ADDRESS": self.address}

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class BusctlError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def busctl(address: str, *args: str, timeout: float = 20) -> str:
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address)
    proc = subprocess.run(["busctl", "--user", *args], capture_output=True, text=True, env=env, timeout=timeout)
    if proc.returncode != 0:
        raise BusctlError(proc.stderr.strip())
    return proc.stdout


def call(address: str, method: str, signature: str = "", *args: str) -> Any:
    """Call a Monitor1 method with busctl; return the reply's data (a list, one item per out arg)."""
    argv = ["--json=short", "call", names.BUS_NAME, names.OBJECT_PATH, names.INTERFACE, method]
    if signature:
        argv += [signature, *args]
    out = busctl(address, *argv).strip()
    return json.loads(out)["data"] if out else []


def gdbus_call(address: str, method: str, *args: str) -> subprocess.CompletedProcess[str]:
    """gdbus prints the D-Bus error *name*, which busctl does not."""
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address)
    return subprocess.run(
        ["gdbus", "call", "--session", "--dest", names.BUS_NAME, "--object-path", names.OBJECT_PATH,
         "--method", f"{names.INTERFACE}.{method}", *args],
        capture_output=True, text=True, env=env, timeout=20,
    )


def name_has_owner(address: str, name: str = names.BUS_NAME) -> bool:
    try:
        out = busctl(address, "call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                     "NameHasOwner", "s", name)
    except BusctlError:
        return False
    return out.strip() == "b true"


def plain(value: Any) -> Any:
    """busctl --json=short variants ({"type":..,"data":..}) as plain values."""
    if isinstance(value, dict):
        if set(value) == {"type", "data"}:
            return plain(value["data"])
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def wait_until(predicate: Any, timeout: float = 15.0, interval: float = 0.1, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")


def raw_call(address: str, member: str, signature: str = "", body: list[Any] | None = None) -> tuple[str, Any]:
    """Call with exactly this signature (no client-side conversion); return (error name or "", body)."""
    import asyncio

    from dbus_fast import Message, MessageType
    from dbus_fast.aio import MessageBus

    async def go() -> tuple[str, Any]:
        bus = await MessageBus(bus_address=address).connect()
        try:
            reply = await bus.call(Message(destination=names.BUS_NAME, path=names.OBJECT_PATH,
                                           interface=names.INTERFACE, member=member, signature=signature,
                                           body=body or []))
        finally:
            bus.disconnect()
        assert reply is not None
        if reply.message_type is MessageType.ERROR:
            return reply.error_name or "", reply.body
        return "", reply.body

    return asyncio.run(go())
