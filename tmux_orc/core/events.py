"""What the core tells the outside world. The D-Bus adapter (and tests) subscribe to these."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from tmux_orc.core.rollout import RolloutCause
from tmux_orc.model import AgentView


@dataclass(frozen=True, slots=True)
class AgentAppeared:
    agent: AgentView


@dataclass(frozen=True, slots=True)
class AgentVanished:
    agent: AgentView


@dataclass(frozen=True, slots=True)
class AgentUpdated:
    """Any published property of an agent changed (state, detail, activity, strategy...)."""

    old: AgentView
    new: AgentView

    @property
    def state_changed(self) -> bool:
        return self.old.state != self.new.state


@dataclass(frozen=True, slots=True)
class AlertRaised:
    severity: str
    summary: str
    body: str
    target: str


@dataclass(frozen=True, slots=True)
class RecoveryFinished:
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
        self._listeners.append(listener)

    def emit(self, event: Event) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:  # a listener bug must not stop monitoring; logged whole
                self.listener_errors += 1
                log.exception("event listener failed on %s", type(event).__name__)

