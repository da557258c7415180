"""Lingering: whether this user's systemd manager (and so tmux-orc.service) outlives a logout.

Asked of logind, ``org.freedesktop.login1`` on the system bus, first; then of ``loginctl show-user``.
When neither answers the state is unknown, and callers say so rather than guess.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus

LOGIND = "org.freedesktop.login1"
LOGIND_PATH = "/org/freedesktop/login1"
LOGIND_MANAGER = "org.freedesktop.login1.Manager"
LOGIND_USER = "org.freedesktop.login1.User"
NO_SUCH_USER = "org.freedesktop.login1.NoSuchUser"
SYSTEM_BUS_DEFAULT = "unix:path=/run/dbus/system_bus_socket"
LOGIND_TIMEOUT_S = 2.0

#: Runs a command and returns (exit status, combined output); raises OSError if it cannot run.
Runner = Callable[[Sequence[str], Mapping[str, str]], tuple[int, str]]


class LingerUnknown(Exception):
    """One way of asking about lingering did not answer; the message says why."""


@dataclass(frozen=True)
class Linger:
    """What is known about lingering for one user: ``enabled`` is None when nobody could tell."""

    user: str
    enabled: bool | None
    source: str = ""  # "logind" or "loginctl" when known
    why_unknown: str = ""


def current_user(env: Mapping[str, str]) -> str:
    """This process's user name (from the password database, else ``$USER``)."""
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return env.get("USER") or str(os.getuid())


def parse_loginctl(output: str) -> bool:
    """``Linger=yes`` / ``Linger=no`` from ``loginctl show-user USER -p Linger``."""
    for line in output.splitlines():
        key, _, value = line.strip().partition("=")
        if key == "Linger":
            if value in ("yes", "no"):
                return value == "yes"
            break
    raise LingerUnknown(f"loginctl printed no Linger=yes|no: {output.strip()[:120]!r}")


def system_bus_address(env: Mapping[str, str]) -> str:
    """``DBUS_SYSTEM_BUS_ADDRESS``, else the standard system bus socket."""
    return env.get("DBUS_SYSTEM_BUS_ADDRESS") or SYSTEM_BUS_DEFAULT


async def _logind_linger(uid: int, address: str, timeout: float) -> bool:
    try:
        bus = await asyncio.wait_for(MessageBus(bus_address=address, bus_type=BusType.SYSTEM).connect(), timeout)
    except TimeoutError:
        raise LingerUnknown(f"the system bus at {address} did not answer") from None
    except Exception as exc:  # noqa: BLE001 - dbus-fast raises OSError, AuthError, ... for an absent or refusing bus
        raise LingerUnknown(f"no system bus at {address} ({exc})") from None
    try:
        reply = await asyncio.wait_for(bus.call(Message(
            destination=LOGIND, path=LOGIND_PATH, interface=LOGIND_MANAGER, member="GetUser",
            signature="u", body=[uid],
        )), timeout)  # fmt: skip
        if reply.message_type is MessageType.ERROR:
            if reply.error_name == NO_SUCH_USER:
                return False  # logind tracks every lingering user from boot on
            raise LingerUnknown(f"logind did not answer GetUser: {reply.error_name}")
        reply = await asyncio.wait_for(bus.call(Message(
            destination=LOGIND, path=str(reply.body[0]), interface="org.freedesktop.DBus.Properties",
            member="Get", signature="ss", body=[LOGIND_USER, "Linger"],
        )), timeout)  # fmt: skip
        if reply.message_type is MessageType.ERROR:
            raise LingerUnknown(f"logind did not give the Linger property: {reply.error_name}")
        return bool(reply.body[0].value)
    except TimeoutError:
        raise LingerUnknown(f"logind did not answer within {timeout:g} s") from None
    finally:
        bus.disconnect()


def linger_from_logind(env: Mapping[str, str], uid: int | None = None, timeout: float = LOGIND_TIMEOUT_S) -> bool:
    """The ``Linger`` property of this user's logind object (a user logind does not know lingers not)."""
    return asyncio.run(_logind_linger(os.getuid() if uid is None else uid, system_bus_address(env), timeout))


def linger_from_loginctl(user: str, env: Mapping[str, str], runner: Runner) -> bool:
    """``loginctl show-user USER -p Linger``."""
    loginctl = shutil.which("loginctl", path=env.get("PATH", os.defpath))
    if loginctl is None:
        raise LingerUnknown("loginctl is not installed")
    try:
        status, output = runner([loginctl, "show-user", user, "--property=Linger"], env)
    except OSError as exc:
        raise LingerUnknown(f"cannot run loginctl: {exc}") from None
    if status != 0:
        if "not logged in" in output or "No such user" in output or "NoSuchUser" in output:
            return False
        raise LingerUnknown(f"loginctl show-user failed ({status}): {output.strip()[:160]}")
    return parse_loginctl(output)


def query_linger(env: Mapping[str, str], runner: Runner, user: str | None = None) -> Linger:
    """Ask logind, then loginctl; an unknown :class:`Linger` with both reasons when neither answers."""
    who = user or current_user(env)
    reasons = []
    try:
        return Linger(who, linger_from_logind(env), "logind")
    except LingerUnknown as exc:
        reasons.append(f"logind: {exc}")
    try:
        return Linger(who, linger_from_loginctl(who, env, runner), "loginctl")
    except LingerUnknown as exc:
        reasons.append(f"loginctl: {exc}")
    return Linger(who, None, "", "; ".join(reasons))


def enable_linger_argv(user: str) -> list[str]:
    """The command that turns lingering on for ``user``."""
    return ["loginctl", "enable-linger", user]


AT_LOGOUT = (
    "at logout systemd stops your user manager and tmux-orc.service with it, while your tmux server and "
    "the agents in it go on running: unwatched, with no alerts and no recovery of a crashed PM"
)


def linger_advice(linger: Linger) -> str:
    """One plain paragraph on what lingering means for this user now ("" when it is on)."""
    fix = f"`loginctl enable-linger {linger.user}` (or `tmux-orc install --enable --linger`) keeps it running"
    if linger.enabled:
        return ""
    if linger.enabled is False:
        return f"lingering is off for {linger.user}: {AT_LOGOUT}. {fix}."
    return (f"cannot tell whether lingering is on for {linger.user} ({linger.why_unknown}). Without it, "
            f"{AT_LOGOUT}. {fix}.")
