"""An example tmux-orc monitoring strategy plugin.

A strategy decides *how* the screens of the panes it is given are read. The factory gets a read-only
``StrategyContext`` (it can read a pane's screen and knows its timeout, nothing more) and returns an
object with a ``name`` equal to its entry-point name and two async methods, ``capture`` and ``aclose``.

``sequential`` reads the panes one after the other through the context. ``broken`` fails every capture:
it exists to show (and test) that a failing strategy is rolled back automatically by the rollout stages.
``invalid`` returns something that is not a strategy: tmux-orc refuses to load it.
"""

from __future__ import annotations

from collections.abc import Sequence

from tmux_orc.core.plugins import StrategyContext
from tmux_orc.core.strategy import CaptureResult
from tmux_orc.model import PaneInfo


class SequentialStrategy:
    def __init__(self, context: StrategyContext) -> None:
        self.name = context.name
        self.context = context

    async def capture(self, panes: Sequence[PaneInfo], *, full: bool) -> CaptureResult:
        result = CaptureResult()
        for pane in panes:
            try:
                result.screens[pane.pane_id] = await self.context.capture_pane(pane.pane_id)
            except Exception as exc:  # report per pane; the monitor counts these against the rollout
                result.errors[pane.pane_id] = str(exc)
        return result

    async def aclose(self) -> None:
        return None


class BrokenStrategy(SequentialStrategy):
    async def capture(self, panes: Sequence[PaneInfo], *, full: bool) -> CaptureResult:
        raise RuntimeError("example-broken: this strategy fails on purpose")


def sequential(context: StrategyContext) -> SequentialStrategy:
    return SequentialStrategy(context)


def broken(context: StrategyContext) -> BrokenStrategy:
    return BrokenStrategy(context)


def invalid(context: StrategyContext) -> object:
    return object()
