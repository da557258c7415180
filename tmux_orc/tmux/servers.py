"""Every tmux server the daemon watches: found under the socket directory (or named by ``tmux_socket``),
each with its own connections, and the routing of a qualified name back to its server.

With ``tmux_socket`` unset, :meth:`TmuxServers.refresh` lists ``$TMUX_TMPDIR/tmux-UID/`` (each full
cycle: a new server is watched from the next cycle on); a socket file that disappears takes its server
with it. A socket with no server answering (tmux was killed, the file stayed) is kept but asked again
only after a backoff, or at once when the file is replaced (a new server on the same name). Names of
every server but the home one carry its qualifier (:mod:`tmux_orc.sockets`).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from tmux_orc.core.ports import PaneIOError
from tmux_orc.core.strategy import MonitoringStrategy
from tmux_orc.model import CONCURRENT_STRATEGY, LEGACY_STRATEGY, PaneInfo
from tmux_orc.sockets import SEPARATOR, WatchedSockets, find_sockets
from tmux_orc.tmux.actions import TmuxPaneActions
from tmux_orc.tmux.concurrent import ConcurrentStrategy
from tmux_orc.tmux.control import ControlClient
from tmux_orc.tmux.flow import HOLD, STREAM_BUDGET
from tmux_orc.tmux.notify import OutputWatch
from tmux_orc.tmux.polling import PollingStrategy, SubprocessPaneSource
from tmux_orc.tmux.runner import TMUX
from tmux_orc.tmux.source import ControlPaneSource

log = logging.getLogger(__name__)

BACKOFF_MAX = 30.0  # seconds between two tries of a socket with no server answering


class ServerGone(PaneIOError):
    """The name belongs to no tmux server watched now (it went away, or was never watched)."""


@dataclass(eq=False)
class TmuxServer:
    """One watched tmux server: its socket, the qualifier of its names, and its own connections."""

    name: str
    path: str
    prefix: str  # "" for the home server, else "NAME."
    client: ControlClient
    source: ControlPaneSource
    actions: TmuxPaneActions
    strategies: dict[str, MonitoringStrategy]
    feed: OutputWatch
    identity: tuple[int, int] | None = None  # (device, inode) of the socket file when last seen
    connected: bool = False
    error: str = "not asked yet"
    panes: list[PaneInfo] = field(default_factory=list)  # the last listing, qualified
    failures: int = 0
    retry_at: float = 0.0
    # the last listing, by id() of each row as the source gave it: (that row, qualified); the row held
    # here keeps its id from being reused
    _seen: dict[int, tuple[PaneInfo, PaneInfo]] = field(default_factory=dict)

    def qualify_all(self, panes: list[PaneInfo]) -> list[PaneInfo]:
        """:meth:`qualified` of a whole listing. The source gives an unchanged row as the same object
        (:class:`~tmux_orc.tmux.format.PaneRows`): it gets the same qualified one back, found by identity."""
        seen = self._seen
        out = []
        for pane in panes:
            known = seen.get(id(pane))
            out.append(known[1] if known is not None and known[0] is pane else self.qualified(pane))
        self._seen = {id(pane): (pane, mine) for pane, mine in zip(panes, out, strict=True)}
        return out

    def qualified(self, pane: PaneInfo) -> PaneInfo:
        """A pane of this server as the core sees it: its server named, its names qualified."""
        p = self.prefix
        if not p:
            return replace(pane, server=self.name)
        return replace(pane, server=self.name, pane_id=p + pane.pane_id, session=p + pane.session,
                       session_id=p + pane.session_id if pane.session_id else "",
                       window_id=p + pane.window_id if pane.window_id else "")

    def local(self, pane: PaneInfo) -> PaneInfo:
        """A pane as the core sees it, back in this server's own names (what tmux accepts)."""
        if not self.prefix:
            return pane
        return replace(pane, pane_id=self.strip(pane.pane_id), session=self.strip(pane.session),
                       session_id=self.strip(pane.session_id), window_id=self.strip(pane.window_id))

    def strip(self, name: str) -> str:
        """``name`` without this server's qualifier."""
        return name[len(self.prefix):] if self.prefix and name.startswith(self.prefix) else name

    def info(self) -> dict[str, object]:
        """What GetStatus says about this server (``tmux_servers``)."""
        return {"name": self.name, "socket": self.path, "connected": self.connected, "panes": len(self.panes),
                "error": "" if self.connected else self.error, "qualifier": self.prefix}

    async def aclose(self) -> None:
        """Close this server's connections (the tmux server itself is untouched)."""
        await self.feed.close()
        for strategy in self.strategies.values():
            await strategy.aclose()
        await self.client.close()


def _identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of a socket file; None when there is no socket there."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISSOCK(st.st_mode) else None


class TmuxServers:
    """The watched servers, by socket path, kept current by :meth:`refresh`."""

    def __init__(self, watched: WatchedSockets, *, command_timeout: float = 2.0, max_in_flight: int = 64,
                 tmux: str = TMUX, spinner_hold: float = HOLD, stream_budget: int = STREAM_BUDGET) -> None:
        self.watched = watched
        self.command_timeout = command_timeout
        self.max_in_flight = max_in_flight
        self.spinner_hold = spinner_hold  # 0: no flow control, every frame streamed
        self.stream_budget = stream_budget  # spinner frames a second streamed before holding starts
        self.tmux = tmux
        self.servers: dict[str, TmuxServer] = {}
        self.on_structure: Callable[[], None] | None = None  # a window or session came or went somewhere
        self.closed_counts = [0, 0]  # change-feed counters of servers no longer watched
        self.retired: list[TmuxServer] = []  # gone from the watch, connections still to close
        for path in watched.explicit:
            self.servers[path] = self._make(path)

    # --- discovery -----------------------------------------------------------------------------
    def refresh(self) -> list[TmuxServer]:
        """Look for servers come and gone (``tmux_socket`` unset); every watched server, home first."""
        if self.watched.watch_all:
            found = [str(path) for path in find_sockets(self.watched.directory)]
            for path in [p for p in self.servers if p not in found]:
                self._retire(self.servers.pop(path), "its socket is gone")
            for path in found:
                if path not in self.servers:
                    self.servers[path] = self._make(path)
                    log.info("tmux server %s found (%s)", self.servers[path].name, path)
        for server in self.servers.values():
            identity = _identity(server.path)
            if identity != server.identity:  # a new server on that socket: ask it now
                server.identity, server.retry_at, server.failures = identity, 0.0, 0
        return sorted(self.servers.values(), key=lambda s: (s.prefix != "", s.name))

    def _make(self, path: str) -> TmuxServer:
        timeout = self.command_timeout
        client = ControlClient(path, command_timeout=timeout, max_in_flight=self.max_in_flight, tmux=self.tmux)
        feed = OutputWatch(path, command_timeout=timeout, tmux=self.tmux, hold=self.spinner_hold or HOLD,
                           flow_control=self.spinner_hold > 0, stream_budget=self.stream_budget)
        feed.on_structure = self._structure
        strategies: dict[str, MonitoringStrategy] = {LEGACY_STRATEGY: PollingStrategy(path, timeout),
                                                     CONCURRENT_STRATEGY: ConcurrentStrategy(client, timeout)}
        return TmuxServer(
            name=self.watched.name_of(path), path=path, prefix=self.watched.prefix_of(path), client=client,
            source=ControlPaneSource(client, SubprocessPaneSource(path, timeout)),
            actions=TmuxPaneActions(path, timeout), strategies=strategies, feed=feed,
        )

    def _retire(self, server: TmuxServer, why: str) -> None:
        log.info("tmux server %s no longer watched: %s", server.name, why)
        self.closed_counts[0] += server.feed.notifications
        self.closed_counts[1] += server.feed.changes
        self.retired.append(server)

    def _structure(self) -> None:
        if self.on_structure is not None:
            self.on_structure()

    # --- health --------------------------------------------------------------------------------
    def due(self, server: TmuxServer, now: float) -> bool:
        """Is the server to be asked this cycle? (one that did not answer waits out its backoff)"""
        return now >= server.retry_at

    def failed(self, server: TmuxServer, why: str, *, unavailable: bool, now: float) -> None:
        """Note that the server did not answer; with no server there, try it again after a backoff."""
        if server.connected or server.failures == 0:
            log.info("tmux server %s (%s) does not answer: %s", server.name, server.path, why)
        server.connected, server.error = False, why
        if unavailable:
            server.panes = []
            server.failures += 1
            server.retry_at = now + min(BACKOFF_MAX, 0.5 * 2 ** min(server.failures, 8))

    def answered(self, server: TmuxServer, panes: list[PaneInfo]) -> None:
        """Note the server's listing."""
        if not server.connected:
            log.info("tmux server %s (%s) answers: %d panes", server.name, server.path, len(panes))
        server.connected, server.error, server.failures, server.retry_at = True, "", 0, 0.0
        server.panes = panes

    # --- routing -------------------------------------------------------------------------------
    def route(self, name: str) -> tuple[TmuxServer, str]:
        """The server a qualified name (pane, window or session id, session name) belongs to, and the
        name as that server calls it. Raises :class:`ServerGone`."""
        home: TmuxServer | None = None
        best: TmuxServer | None = None
        for server in self.servers.values():
            if not server.prefix:
                home = server
            elif name.startswith(server.prefix) and (best is None or len(server.prefix) > len(best.prefix)):
                best = server
        if best is not None:
            return best, name[len(best.prefix):]
        head = name.partition(":")[0]
        if home is not None and SEPARATOR not in head:
            return home, name
        raise ServerGone(f"{name!r} is on no tmux server watched now ({self.watched.describe()})")

    def by_name(self, name: str) -> TmuxServer | None:
        """The watched server called ``name``."""
        return next((s for s in self.servers.values() if s.name == name), None)

    def infos(self) -> list[dict[str, object]]:
        """GetStatus ``tmux_servers``: each watched server, whether it answers, and why not."""
        return [server.info() for server in sorted(self.servers.values(), key=lambda s: (s.prefix != "", s.name))]

    async def aclose(self) -> None:
        """Close every server's connections."""
        servers, self.servers = [*self.servers.values(), *self.retired], {}
        self.retired = []
        for server in servers:
            await server.aclose()

    async def close_retired(self) -> None:
        """Close the connections of servers no longer watched."""
        retired, self.retired = self.retired, []
        for server in retired:
            await server.aclose()

