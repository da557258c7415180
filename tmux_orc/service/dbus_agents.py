"""One org.tmuxorc.Agent1 object per agent, enumerated by the ObjectManager on /org/tmuxorc/Monitor1."""

from typing import Any

from dbus_fast import Message, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusDouble, DBusStr
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_property

from tmux_orc.model import AgentView
from tmux_orc.service import names
from tmux_orc.sockets import local_name

_PROPERTY_OF_FIELD = {
    "id": "Id",
    "target": "Target",
    "session": "Session",
    "window": "Window",
    "pane_id": "PaneId",
    "role": "Role",
    "kind": "Kind",
    "state": "State",
    "state_since": "StateSince",
    "detail": "Detail",
    "last_activity": "LastActivity",
    "server": "Server",
}
_LOCAL = ("session", "pane_id")  # shown as tmux itself names them on the agent's server


def _properties(view: AgentView) -> dict[str, Any]:
    values = {f: getattr(view, f) for f in _PROPERTY_OF_FIELD}
    for f in _LOCAL:
        values[f] = local_name(view.server, values[f])
    return {prop: (str(values[f]) if not isinstance(values[f], float) else values[f])
            for f, prop in _PROPERTY_OF_FIELD.items()}


class AgentInterface(ServiceInterface):
    """The ``org.tmuxorc.Agent1`` object of one agent: its view as read-only properties."""

    def __init__(self, view: AgentView) -> None:
        super().__init__(names.AGENT_INTERFACE)
        self.view = view

    def update(self, view: AgentView) -> None:
        """Take the agent's new view; emit PropertiesChanged for the properties that differ."""
        before, after = _properties(self.view), _properties(view)
        self.view = view
        changed = {k: v for k, v in after.items() if before[k] != v}
        if changed:
            self.emit_properties_changed(changed)

    @dbus_property(access=PropertyAccess.READ)
    def Id(self) -> DBusStr:
        """The agent's id, stable while its pane keeps its place (``Id``)."""
        return self.view.id

    @dbus_property(access=PropertyAccess.READ)
    def Target(self) -> DBusStr:
        """The agent's ``session:window.pane`` (``Target``)."""
        return self.view.target

    @dbus_property(access=PropertyAccess.READ)
    def Session(self) -> DBusStr:
        """The agent's tmux session name, as its own server names it (``Session``)."""
        return local_name(self.view.server, self.view.session)

    @dbus_property(access=PropertyAccess.READ)
    def Window(self) -> DBusStr:
        """The agent's window name (``Window``)."""
        return self.view.window

    @dbus_property(access=PropertyAccess.READ)
    def PaneId(self) -> DBusStr:
        """The agent's tmux pane id on its own server, like ``%3`` (``PaneId``)."""
        return local_name(self.view.server, self.view.pane_id)

    @dbus_property(access=PropertyAccess.READ)
    def Role(self) -> DBusStr:
        """The agent's role (``Role``)."""
        return str(self.view.role)

    @dbus_property(access=PropertyAccess.READ)
    def Kind(self) -> DBusStr:
        """The agent's kind: a defined agent CLI, or ``shell`` / ``unknown`` (``Kind``)."""
        return str(self.view.kind)

    @dbus_property(access=PropertyAccess.READ)
    def State(self) -> DBusStr:
        """The agent's state (``State``)."""
        return str(self.view.state)

    @dbus_property(access=PropertyAccess.READ)
    def StateSince(self) -> DBusDouble:
        """When the agent entered its state, in unix time (``StateSince``)."""
        return self.view.state_since

    @dbus_property(access=PropertyAccess.READ)
    def Detail(self) -> DBusStr:
        """What the agent's state is about, for people (``Detail``)."""
        return self.view.detail

    @dbus_property(access=PropertyAccess.READ)
    def LastActivity(self) -> DBusDouble:
        """When the agent's window last showed activity, in unix time (``LastActivity``)."""
        return self.view.last_activity

    @dbus_property(access=PropertyAccess.READ)
    def Server(self) -> DBusStr:
        """The name of the agent's tmux server: its socket's file name, like ``default`` (``Server``)."""
        return self.view.server


def _variants(view: AgentView) -> dict[str, Variant]:
    return {k: Variant("d" if isinstance(v, float) else "s", v) for k, v in _properties(view).items()}


class TmuxOrcBus(MessageBus):
    """dbus-fast's bus, with ObjectManager signals sent from the manager's path as the spec requires.

    dbus-fast sends InterfacesAdded/Removed from the exported object's own path; clients watching the
    manager (``/org/tmuxorc/Monitor1``) would never see them. Agent objects are announced by
    :class:`AgentObjects` instead, and other exports need no announcement.
    """

    def _emit_interface_added(self, path: str, interface: ServiceInterface) -> None:
        return None

    def _emit_interface_removed(self, path: str, removed_interfaces: list[str]) -> None:
        return None


class AgentObjects:
    """Exports, updates and removes the agent objects, announcing each on the manager's path."""

    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus
        self.objects: dict[str, AgentInterface] = {}

    def _signal(self, member: str, signature: str, body: list[Any]) -> None:
        self.bus.send(Message.new_signal(
            path=names.OBJECT_PATH, interface="org.freedesktop.DBus.ObjectManager",
            member=member, signature=signature, body=body,
        ))

    def add(self, view: AgentView) -> None:
        """Export a new agent's object and announce it (InterfacesAdded); a known agent is updated instead."""
        if view.id in self.objects:
            self.update(view)
            return
        obj = AgentInterface(view)
        path = names.agent_path(view.id)
        self.bus.export(path, obj)
        self.objects[view.id] = obj
        self._signal("InterfacesAdded", "oa{sa{sv}}", [path, {names.AGENT_INTERFACE: _variants(view)}])

    def update(self, view: AgentView) -> None:
        """Pass the agent's new view to its object (exporting it first if it is new)."""
        obj = self.objects.get(view.id)
        if obj is None:
            self.add(view)
        else:
            obj.update(view)

    def remove(self, agent_id: str) -> None:
        """Unexport the agent's object and announce it (InterfacesRemoved); an unknown id is ignored."""
        obj = self.objects.pop(agent_id, None)
        if obj is None:
            return
        path = names.agent_path(agent_id)
        self.bus.unexport(path, obj)
        self._signal("InterfacesRemoved", "oas", [path, [names.AGENT_INTERFACE]])
