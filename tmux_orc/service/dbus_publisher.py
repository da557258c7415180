"""Turns core events into D-Bus signals, agent objects and PropertiesChanged (coalesced per change)."""

from typing import Any

from tmux_orc.core.events import (
    AgentAppeared,
    AgentUpdated,
    AgentVanished,
    AlertRaised,
    Event,
    RecoveryFinished,
    RolloutStageChanged,
    StatusChanged,
)
from tmux_orc.service.dbus_agents import AgentObjects
from tmux_orc.service.dbus_monitor import MonitorInterface


class BusPublisher:
    """The core's event listener that publishes each event on D-Bus."""

    def __init__(self, monitor: MonitorInterface, agents: AgentObjects) -> None:
        self.monitor = monitor
        self.agents = agents
        self._last_properties: dict[str, Any] = monitor.property_values()

    def __call__(self, event: Event) -> None:
        """Publish ``event``: its signal, the agent object it changes, the Monitor1 properties that changed."""
        m = self.monitor
        match event:
            case AgentAppeared(agent=view):
                self.agents.add(view)
                m.AgentAppeared(view.id, view.target)
            case AgentVanished(agent=view):
                self.agents.remove(view.id)
                m.AgentVanished(view.id, view.target)
            case AgentUpdated(old=old, new=new):
                self.agents.update(new)
                if old.state != new.state:
                    m.AgentStateChanged(new.id, new.target, str(old.state), str(new.state), new.detail)
            case AlertRaised(severity=severity, summary=summary, body=body, target=target):
                m.Alert(severity, summary, body, target)
            case RecoveryFinished(recovery_id=rid, target=target, success=ok, detail=detail):
                m.RecoveryFinished(rid, target, ok, detail)
            case RolloutStageChanged(old_stage=old_stage, new_stage=new_stage, reason=reason):
                m.RolloutStageChanged(old_stage, new_stage, reason)
                self._properties_changed()
            case StatusChanged():
                self._properties_changed()

    def _properties_changed(self) -> None:
        now = self.monitor.property_values()
        changed = {k: v for k, v in now.items() if self._last_properties.get(k) != v}
        self._last_properties = now
        if changed:
            self.monitor.emit_properties_changed(changed)
