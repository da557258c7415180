"""Hook events: what agents report about themselves (``ReportEvent``), filed on the right pane.

An event is filed only on a pane of a tmux server the daemon watches, the one it came from (hooks send
the socket they ran under); one for a ``%N`` of such a server that no cycle has seen yet is kept a
little while for it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from tmux_orc import sockets
from tmux_orc.core.ports import Clock
from tmux_orc.core.tracker import AgentRecord, StateTracker
from tmux_orc.detect.engine import hook_state
from tmux_orc.model import AgentEvent, AgentView
from tmux_orc.sockets import WatchedSockets

log = logging.getLogger(__name__)

EARLY_EVENT_SECONDS = 30.0
MAX_EARLY_PANES = 64


class HookInbox:
    """Files hook events on the tracker's agents; keeps early ones for panes not seen yet."""

    def __init__(self, tracker: StateTracker, clock: Clock) -> None:
        self.tracker = tracker
        self.clock = clock
        self._early_events: dict[str, list[AgentEvent]] = {}  # pane id -> hook events before it was seen

    def report(
        self, target: str, event: str, details: Mapping[str, str], server: str, watched: WatchedSockets
    ) -> AgentView | None:
        """An agent hook told us something about itself; it refines the next observation.

        ``server`` is the socket path of the tmux server the hook ran under (from its ``$TMUX``): an
        event from a server that is not one of the ``watched`` is refused (LookupError), never filed on
        a pane of another server that happens to have the same ``%N``; one from a watched server is
        looked up among that server's panes (its names qualified, :mod:`tmux_orc.sockets`). Without a
        server the target is taken as given. An event for a ``%N`` of a watched server not seen yet is
        kept for that pane's first cycle (None returned)."""
        local, target = target, self.where(target, server, watched, event)
        rec = self.tracker.find(target)
        kind = f" ({details['notification_type']})" if details.get("notification_type") else ""
        if rec is None:
            if server and local.startswith("%") and local[1:].isdigit():
                self._keep_early(target, AgentEvent(at=self.clock(), event=event, details=dict(details)))
                log.info("%s: hook %s%s kept until a cycle sees that pane", target, event, kind)
                return None
            raise LookupError(f"no agent matches {target!r}")
        log.info("%s: hook %s%s", rec.view.target, event, kind)
        rec.events.append(AgentEvent(at=self.clock(), event=event, details=dict(details)))
        rec.hook_pending = True
        return rec.view

    def where(self, target: str, server: str, watched: WatchedSockets, event: str = "") -> str:
        """The target as the core names it on the hook's server (qualified, :mod:`tmux_orc.sockets`);
        LookupError (and a log line) when ``server`` is not one of the ``watched``. No server: as given."""
        if not server:
            return target
        path = watched.find(server)
        if path is None:
            log.warning("hook %s for %s refused: it comes from tmux server %s, this daemon watches %s",
                        event, target, server, watched.describe())
            raise LookupError(f"{target} is a pane of tmux server {server}; this daemon watches "
                              f"{watched.describe()}")
        return watched.prefix_of(path) + target

    def _keep_early(self, pane_id: str, event: AgentEvent) -> None:
        horizon = event.at - EARLY_EVENT_SECONDS
        for key in [k for k, events in self._early_events.items() if events[-1].at < horizon]:
            del self._early_events[key]
        if pane_id not in self._early_events and len(self._early_events) >= MAX_EARLY_PANES:
            del self._early_events[next(iter(self._early_events))]  # the oldest pane
        self._early_events.setdefault(pane_id, []).append(event)

    def take_early(self, rec: AgentRecord, now: float) -> None:
        """Hand a pane seen for the first time the events that came for it before (a hook is quick)."""
        early = [e for e in self._early_events.pop(rec.pane.pane_id, []) if e.at >= now - EARLY_EVENT_SECONDS]
        if early:
            rec.events.extend(early)
            rec.hook_pending = True

    def recheck(self, target: str) -> bool:
        """Let the newest hook event confirm the next observation once more when its state is not the
        published one yet (the screen may not have shown it at the first look). True when re-armed."""
        rec = self.tracker.find(target)
        if rec is None:
            return False
        found = hook_state(tuple(rec.events))
        if found is None or found[0] == rec.view.state:
            return False
        rec.hook_pending = True
        return True


def watched_socket(setting: str | None, env: Mapping[str, str] | None = None) -> str:
    """The socket path of the tmux server a one-entry ``tmux_socket`` setting names: a path as is, a
    bare name (``tmux -L``) or None (tmux's ``default``) under ``$TMUX_TMPDIR/tmux-UID`` (``/tmp`` by
    default)."""
    return sockets.home_path(setting, sockets.socket_dir(env))


same_socket = sockets.same_socket
