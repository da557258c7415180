"""What a monitoring strategy is: something that captures the screens of the panes it is given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from tmux_orc.model import PaneInfo


@dataclass(slots=True)
class CaptureResult:
    screens: dict[str, str] = field(default_factory=dict)  # pane_id -> screen; absent = unchanged
    errors: dict[str, str] = field(default_factory=dict)  # pane_id -> why its capture failed


@runtime_checkable
class MonitoringStrategy(Protocol):
    """The protocol every strategy (built-in or plugin) satisfies."""

    name: str

    async def capture(self, panes: Sequence[PaneInfo], *, full: bool) -> CaptureResult: ...

    async def aclose(self) -> None: ...
