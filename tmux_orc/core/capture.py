"""One reading of agents' screens: each strategy captures its group of panes, the groups concurrently.

A strategy may be a plugin: one that raises, hangs past its budget or returns something else than a
:class:`~tmux_orc.core.strategy.CaptureResult` fails its own panes only, counted in the cycle's report.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence

from tmux_orc.core.report import CycleReport
from tmux_orc.core.strategy import CaptureResult, MonitoringStrategy
from tmux_orc.core.tracker import AgentRecord
from tmux_orc.model import PaneInfo

log = logging.getLogger(__name__)

PER_PANE_BUDGET = 0.05  # seconds a strategy is given per pane, above twice the command timeout


async def capture_screens(strategies: Mapping[str, MonitoringStrategy], agents: Sequence[AgentRecord],
                          report: CycleReport, *, full: bool,
                          command_timeout: float) -> tuple[dict[str, str], set[str]]:
    """The screens of the agents' live panes by pane id, and the panes whose reading failed.

    ``full``: every pane is captured; else each strategy may leave out the panes that cannot have
    changed (those are neither in the screens nor failed)."""
    groups: dict[str, list[PaneInfo]] = {}
    for rec in agents:
        if not rec.pane.dead:
            groups.setdefault(rec.view.strategy, []).append(rec.pane)

    async def run(name: str, panes: list[PaneInfo]) -> tuple[str, CaptureResult | BaseException, float]:
        t0 = time.perf_counter()
        budget = command_timeout * 2 + PER_PANE_BUDGET * len(panes)
        try:
            result: CaptureResult | BaseException = await asyncio.wait_for(
                strategies[name].capture(panes, full=full), budget
            )
        except Exception as exc:  # a strategy (maybe a plugin) failing must not stop the cycle
            log.debug("strategy %s raised", name, exc_info=exc)  # the traceback, for whoever debugs it
            result = exc
        return name, result, (time.perf_counter() - t0) * 1000.0

    screens: dict[str, str] = {}
    failed: set[str] = set()
    for name, result, ms in await asyncio.gather(*(run(n, p) for n, p in groups.items())):
        report.strategy_ms[name] = ms
        if not isinstance(result, CaptureResult):
            failed.update(p.pane_id for p in groups[name])
            report.strategy_errors[name] = report.strategy_errors.get(name, 0) + len(groups[name])
            if isinstance(result, BaseException):
                report.errors.append(f"strategy {name}: {type(result).__name__}: {result}")
                log.warning("strategy %s failed: %s: %s", name, type(result).__name__, result)
            else:
                report.errors.append(f"strategy {name}: returned {type(result).__name__}, not a CaptureResult")
            continue
        screens.update(result.screens)
        report.captured += len(result.screens)
        if result.errors:
            report.strategy_errors[name] = report.strategy_errors.get(name, 0) + len(result.errors)
            failed.update(result.errors)
    return screens, failed
