"""Between cycles: read a pane as soon as tmux reports it changed, and confirm a new state ~100 ms later.

The full reconciliation (list, /proc, every pane that may have changed) still runs every ``interval``
in :class:`~tmux_orc.core.monitor.MonitorCore` (between its full refreshes it leaves out the panes
followed here, which are read when they print news); this loop adds readings of the panes a
:class:`ChangeFeed` names (coalesced by the feed) and of agents whose new state waits for its
confirming reading (:meth:`~tmux_orc.detect.debounce.Debouncer.confirm_due`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from tmux_orc.core.monitor import MonitorCore

log = logging.getLogger(__name__)

IDLE_WAKEUP = 1.0  # seconds: how often the loop looks for new sessions to watch when nothing changes


class ChangeFeed(Protocol):
    """Tells which panes changed (the tmux layer implements it with control-mode notifications)."""

    async def watch(self, sessions: set[str]) -> None:
        """Follow the panes of these sessions (ids like ``$3``) and no others."""

    async def changed(self) -> set[str]:
        """Wait until panes changed; their ids, coalesced over a short window."""

    def forget(self, pane_id: str) -> None:
        """The pane's observed state changed: whatever it prints next is news."""

    def watching(self) -> set[str]:
        """The sessions whose changes are reported now (attached and connected)."""


async def follow_changes(core: MonitorCore, feed: ChangeFeed) -> None:
    """Run until cancelled: the feed's changed panes and due confirmations are read at once."""
    core.on_meaning_changed = feed.forget
    core.watching = feed.watching
    watched_at = -1
    while True:
        try:
            if core.cycles != watched_at:
                watched_at = core.cycles
                await feed.watch(core.followed_sessions() if core.running else set())
            due = min(core.confirm_at.values(), default=None)
            timeout = IDLE_WAKEUP if due is None else min(IDLE_WAKEUP, max(0.0, due - core.clock()))
            try:
                panes = await asyncio.wait_for(feed.changed(), timeout)
            except TimeoutError:
                panes = set()
            if panes or (due is not None and due <= core.clock()):
                await core.reread(panes)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must not stop the change feed for good; the cycle goes on anyway
            log.exception("reading changed panes failed")
            await asyncio.sleep(IDLE_WAKEUP)
