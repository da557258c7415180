"""Between cycles: read a pane as soon as tmux reports it changed, and confirm a new state ~100 ms later.

The full reconciliation (list, /proc, every pane that may have changed) still runs every ``interval``
in :class:`~tmux_orc.core.monitor.MonitorCore` (between its full refreshes it leaves out the panes
followed here, which are read when they print news); this loop adds readings of the panes a
:class:`ChangeFeed` names (coalesced by the feed), of agents whose new state waits for its
confirming reading (:meth:`~tmux_orc.detect.debounce.Debouncer.confirm_due`), and, every
``UNSURE_EVERY`` cycles, of the panes whose output the feed let go unseen (:meth:`ChangeFeed.unsure`).

A feed may hold back a spinner's frames. A spinner that stops (the agent asks, or finishes) is read
by the feed within about a second; what the unsure readings add is a change drawn while the same
spinner went on (a line printed above it), which no state hangs on. Reading every held spinner at
every cycle cost more than the rest of the cycle (40 captures every 2 s at 100 agents), so they are
read every ``UNSURE_EVERY`` cycles, counted from the last reading of them or the last full refresh of
the cycle, whichever is later (a full refresh reads every pane, held ones too: at the default 10 cycles
between full refreshes, a held spinner is read by one or the other every 5 cycles, half the captures
of reading it at both).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from tmux_orc.core.monitor import MonitorCore

log = logging.getLogger(__name__)

IDLE_WAKEUP = 1.0  # seconds: how often the loop looks for new sessions to watch when nothing changes
UNSURE_EVERY = 5  # cycles between readings of the panes whose output the feed let go unseen


class ChangeFeed(Protocol):
    """Tells which panes changed (the tmux layer implements it with control-mode notifications)."""

    async def watch(self, sessions: set[str], panes: set[str] | None = None) -> None:
        """Follow the panes of these sessions (ids like ``$3``) and no others; of those, only ``panes``
        (ids like ``%5``) hold agents (None: any may)."""

    async def changed(self, timeout: float | None = None) -> set[str]:
        """Wait until panes changed; their ids, coalesced over a short window (empty after ``timeout``)."""

    async def unsure(self) -> set[str]:
        """Followed panes whose output may hold a change the feed did not report; to read now."""

    def forget(self, pane_id: str) -> None:
        """The pane's observed state changed: whatever it prints next is news."""

    def watching(self) -> set[str]:
        """The sessions whose changes are reported now (attached and connected)."""


def followed_panes(core: MonitorCore) -> set[str]:
    """Pane ids of the agents whose changes are read as they come."""
    return {rec.pane.pane_id for rec in core.tracker.records.values() if core.followable(rec)}


async def follow_changes(core: MonitorCore, feed: ChangeFeed) -> None:
    """Run until cancelled: the feed's changed panes and due confirmations are read at once."""
    core.on_meaning_changed = feed.forget
    core.watching = feed.watching
    watched_at = -1
    unsure_at = 0
    while True:
        try:
            if core.cycles != watched_at:
                first = watched_at < 0
                watched_at = core.cycles
                if core.running:
                    await feed.watch(core.followed_sessions(), followed_panes(core))
                else:
                    await feed.watch(set(), set())
                # a full refresh read every pane, held ones too: it counts as a reading of the unsure ones
                read_at = max(unsure_at, core.last_full_cycle + 1)
                if not first and core.running and core.cycles - read_at >= UNSURE_EVERY:
                    unsure_at = core.cycles
                    if unsure := await feed.unsure():
                        await core.reread(unsure)
            due = min(core.confirm_at.values(), default=None)
            timeout = IDLE_WAKEUP if due is None else min(IDLE_WAKEUP, max(0.0, due - core.clock()))
            panes = await feed.changed(timeout)
            if panes or (due is not None and due <= core.clock()):
                await core.reread(panes)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must not stop the change feed for good; the cycle goes on anyway
            log.exception("reading changed panes failed")
            await asyncio.sleep(IDLE_WAKEUP)
