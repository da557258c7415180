"""What the core tells the outside world. The D-Bus adapter (and tests) subscribe to these."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from tmux_orc.core.rollout import RolloutCause
from tmux_orc.model import AgentView


@dataclass(frozen=True, slots=True)
class AgentAppeared:
    """A cycle found an agent it did not know; ``agent`` is its first view."""

    agent: AgentView


@dataclass(frozen=True, slots=True)
class AgentVanished:
    """An agent's pane is gone; ``agent`` is its last view."""

    agent: AgentView


@dataclass(frozen=True, slots=True)
class AgentUpdated:
    """Any published property of an agent changed (state, detail, activity, strategy...)."""

    old: AgentView
    new: AgentView

    @property
    def state_changed(self) -> bool:
        """True when the agent's state itself changed, not only another property."""
        return self.old.state != self.new.state


@dataclass(frozen=True, slots=True)
class AlertRaised:
    """An alert for people: what the D-Bus ``Alert`` signal and desktop notifications carry."""

    severity: str
    summary: str
    body: str
    target: str


@dataclass(frozen=True, slots=True)
class RecoveryFinished:
    """A recovery ended; ``success`` says whether the agent program is back, ``detail`` what happened."""

    recovery_id: str
    target: str
    success: bool
    detail: str


@dataclass(frozen=True, slots=True)
class RolloutStageChanged:
    """The rollout stage changed; ``reason`` is for people, ``cause`` for code."""

    old_stage: str
    new_stage: str
    reason: str
    cause: RolloutCause


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """Running / TmuxConnected / AgentCount / LastCycleMs may have changed."""


Event = (
    AgentAppeared | AgentVanished | AgentUpdated | AlertRaised | RecoveryFinished | RolloutStageChanged | StatusChanged
)
Listener = Callable[[Event], None]
log = logging.getLogger(__name__)


class EventHub:
    """Synchronous fan-out of core events to listeners; a failing listener never breaks the cycle."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self.listener_errors = 0

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` with every event emitted from now on."""
        self._listeners.append(listener)

    def emit(self, event: Event) -> None:
        """Hand ``event`` to every listener in turn; a listener that raises is logged and counted."""
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:  # a listener bug must not stop monitoring; logged whole
                self.listener_errors += 1
                log.exception("event listener failed on %s", type(event).__name__)

