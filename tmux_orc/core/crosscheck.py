"""The legacy cross-check: a few panes of the other strategies re-read by the legacy one each cycle.

This is the rollout's detection-disagreement figure: a new strategy that captures wrong screens shows
up here even when it never raises an error. Once a stage has proven healthy it samples less (the
rollout's sample plan), keeping the figure meaningful over a longer window.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from tmux_orc.core.ports import PaneIOError
from tmux_orc.core.report import CycleReport
from tmux_orc.core.rollout import LEGACY
from tmux_orc.core.strategy import MonitoringStrategy
from tmux_orc.core.tracker import AgentRecord
from tmux_orc.model import State

log = logging.getLogger(__name__)

SAMPLES_PER_CYCLE = 2
SamplePlan = Callable[[], tuple[int, int]]  # (panes, every N cycles)
Reclassify = Callable[[AgentRecord, str], State]  # the state the legacy strategy's screen gives


class LegacyCrossCheck:
    """Picks the panes to re-read, round robin, and counts the readings that disagree."""

    def __init__(self, plan: SamplePlan | None = None) -> None:
        self.plan: SamplePlan = plan or (lambda: (SAMPLES_PER_CYCLE, 1))
        self._cursor = 0

    async def sample(self, agents: Sequence[AgentRecord], legacy: MonitoringStrategy | None, cycle: int,
                     timeout: float, reclassify: Reclassify, report: CycleReport) -> None:
        """Re-read this cycle's sample with ``legacy``; add to ``report.sampled`` / ``disagreements``."""
        others = [r for r in agents if r.view.strategy != LEGACY and not r.pane.dead and r.observation]
        count, every = self.plan()
        if not others or legacy is None or count <= 0 or cycle % max(1, every):
            return
        picked = [others[(self._cursor + i) % len(others)] for i in range(min(count, len(others)))]
        self._cursor += len(picked)
        try:
            result = await asyncio.wait_for(legacy.capture([r.pane for r in picked], full=True), timeout)
        except (PaneIOError, TimeoutError, OSError):
            return
        for rec in picked:
            screen = result.screens.get(rec.pane.pane_id)
            if screen is None or rec.observation is None:
                continue
            report.sampled += 1
            state = reclassify(rec, screen)
            if state != rec.observation.verdict.state:
                report.disagreements += 1
                log.debug("%s: %s says %s, legacy says %s", rec.view.target, rec.view.strategy,
                          rec.observation.verdict.state, state)
