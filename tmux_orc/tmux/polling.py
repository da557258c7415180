"""The legacy polling strategy: one tmux subprocess per call, one call at a time. The trusted fallback."""

from __future__ import annotations

from collections.abc import Sequence

from tmux_orc.core.strategy import CaptureResult
from tmux_orc.model import LEGACY_STRATEGY, PaneInfo
from tmux_orc.tmux.format import PANE_FORMAT, parse_pane_listing
from tmux_orc.tmux.runner import TmuxError, run_tmux


class SubprocessPaneSource:
    """Lists every pane of the server with one ``tmux list-panes -a`` subprocess."""

    def __init__(self, socket: str | None, timeout: float) -> None:
        self.socket = socket
        self.timeout = timeout

    async def list_panes(self) -> list[PaneInfo]:
        out = await run_tmux("list-panes", "-a", "-F", PANE_FORMAT, socket=self.socket, timeout=self.timeout)
        return parse_pane_listing(out)


class PollingStrategy:
    """Captures every pane it is given, sequentially, each with its own ``tmux capture-pane``."""

    name = LEGACY_STRATEGY

    def __init__(self, socket: str | None, timeout: float) -> None:
        self.socket = socket
        self.timeout = timeout

    async def capture(self, panes: Sequence[PaneInfo], *, full: bool) -> CaptureResult:
        result = CaptureResult()
        for pane in panes:
            try:
                result.screens[pane.pane_id] = await run_tmux(
                    "capture-pane", "-p", "-t", pane.pane_id, socket=self.socket, timeout=self.timeout
                )
            except TimeoutError:
                result.errors[pane.pane_id] = f"capture timed out after {self.timeout:g}s"
            except TmuxError as exc:
                result.errors[pane.pane_id] = str(exc)
        return result

    async def aclose(self) -> None:
        return None
