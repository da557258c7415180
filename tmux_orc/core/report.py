"""What one monitoring cycle saw and changed: the report every component acting on a cycle reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from tmux_orc.core.events import AgentUpdated
from tmux_orc.model import AgentView, PaneInfo


@dataclass(slots=True)
class CycleReport:
    """What one cycle saw and changed; handed to alerts, recovery, rollout and metrics."""

    started: float
    duration_ms: float = 0.0
    tmux_connected: bool = True
    panes: int = 0
    captured: int = 0
    transitions: list[AgentUpdated] = field(default_factory=list)
    appeared: list[AgentView] = field(default_factory=list)
    vanished: list[AgentView] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    strategy_ms: dict[str, float] = field(default_factory=dict)
    strategy_errors: dict[str, int] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)  # phase name -> ms
    classify_skipped: int = 0  # agents whose unchanged screen and facts needed no classification
    sampled: int = 0  # panes of a non-legacy strategy re-read by the legacy one for comparison
    disagreements: int = 0  # of those, how many the two readings classified differently


def unique_panes(panes: list[PaneInfo]) -> list[PaneInfo]:
    """Each pane once: ``list-panes -a`` repeats a pane for every session of a session group."""
    seen: set[str] = set()
    out: list[PaneInfo] = []
    for pane in panes:
        if pane.pane_id not in seen:
            seen.add(pane.pane_id)
            out.append(pane)
    return out
