"""What a monitoring strategy is: something that captures the screens of the panes it is given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from tmux_orc.model import PaneInfo


@dataclass(slots=True)
class CaptureResult:
    """One capture round: the screens read, by pane id (a pane left out is unchanged), and why any failed."""

    screens: dict[str, str] = field(default_factory=dict)  # pane_id -> screen; absent = unchanged
    errors: dict[str, str] = field(default_factory=dict)  # pane_id -> why its capture failed


@runtime_checkable
class MonitoringStrategy(Protocol):
    """The protocol every strategy (built-in or plugin) satisfies."""

    name: str

    async def capture(self, panes: Sequence[PaneInfo], *, full: bool) -> CaptureResult:
        """Read the screens of ``panes`` that may have changed (every one when ``full``)."""
        ...

    async def aclose(self) -> None:
        """Release what the strategy holds (connections, tasks); it is not used afterwards."""
        ...
