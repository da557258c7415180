"""A stand-in for systemd-logind (it cannot run here: PID 1 is not systemd) on a private "system" bus.

It owns ``org.freedesktop.login1`` and answers what tmux-orc and the real ``loginctl`` ask:
``Manager.GetUser(u)``, ``Manager.SetUserLinger(ubb)`` and the ``Linger``/``Name``/``UID`` properties of
the user object. Run as ``python -m tests.harness.fake_logind ADDRESS UID NAME yes|no``; it prints
``ready`` once the name is owned and records each SetUserLinger call on stdout.
"""

# No `from __future__ import annotations`: dbus-fast reads these annotations at class creation.

import asyncio
import sys

from dbus_fast import BusType, DBusError
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusBool, DBusObjectPath, DBusStr, DBusUInt32
from dbus_fast.service import PropertyAccess, ServiceInterface, dbus_property, method


class User(ServiceInterface):
    def __init__(self, uid: int, name: str, linger: bool) -> None:
        super().__init__("org.freedesktop.login1.User")
        self.uid, self.user_name, self.linger = uid, name, linger  # not .name: the interface's own

    @dbus_property(access=PropertyAccess.READ)
    def UID(self) -> DBusUInt32:
        return self.uid

    @dbus_property(access=PropertyAccess.READ)
    def Name(self) -> DBusStr:
        return self.user_name

    @dbus_property(access=PropertyAccess.READ)
    def Linger(self) -> DBusBool:
        return self.linger


class Manager(ServiceInterface):
    def __init__(self, user: User) -> None:
        super().__init__("org.freedesktop.login1.Manager")
        self.user = user

    @method()
    def GetUser(self, uid: DBusUInt32) -> DBusObjectPath:
        if uid != self.user.uid:
            raise DBusError("org.freedesktop.login1.NoSuchUser", f"User ID {uid} is not logged in or lingering.")
        return f"/org/freedesktop/login1/user/_{uid}"

    @method()
    def SetUserLinger(self, uid: DBusUInt32, enable: DBusBool, interactive: DBusBool) -> None:
        print(f"SetUserLinger {uid} {enable}", flush=True)
        if uid == self.user.uid:
            self.user.linger = enable
            self.user.emit_properties_changed({"Linger": enable})


async def serve(address: str, uid: int, name: str, linger: bool) -> None:
    bus = await MessageBus(bus_address=address, bus_type=BusType.SYSTEM).connect()
    user = User(uid, name, linger)
    bus.export(f"/org/freedesktop/login1/user/_{uid}", user)
    bus.export("/org/freedesktop/login1", Manager(user))
    await bus.request_name("org.freedesktop.login1")
    print("ready", flush=True)
    await bus.wait_for_disconnect()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "yes"))
