"""Where each cycle's pane list comes from: the control-mode connection, or one subprocess if it is down."""

from __future__ import annotations

import logging

from tmux_orc.model import PaneInfo
from tmux_orc.tmux.concurrent import list_panes
from tmux_orc.tmux.control import ControlClient, TmuxDisconnected, TmuxTimeout
from tmux_orc.tmux.format import PaneRows
from tmux_orc.tmux.polling import SubprocessPaneSource

log = logging.getLogger(__name__)


class ControlPaneSource:
    """``list-panes -a`` over the persistent control client (reattached as needed), else a subprocess."""

    def __init__(self, client: ControlClient, fallback: SubprocessPaneSource) -> None:
        self.client = client
        self.fallback = fallback
        self.fallbacks = 0
        self.rows = PaneRows()  # the last listing's rows, parsed

    async def list_panes(self) -> list[PaneInfo]:
        if await self.client.ensure_connected():
            try:
                return await list_panes(self.client, rows=self.rows)
            except (TmuxDisconnected, TmuxTimeout) as exc:
                log.debug("control client failed (%s); listing panes with a subprocess", exc)
        self.fallbacks += 1
        return await self.fallback.list_panes()
