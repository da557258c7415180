"""The core's ports over every watched tmux server: one pane list, captures, actions and change feed,
each routed to the server a (qualified) name belongs to (:class:`~tmux_orc.tmux.servers.TmuxServers`).

The core never learns there are several servers: it sees names that never collide (``work.%3`` beside
the home server's ``%3``), and every request goes back to the server the name came from, in that
server's own names. Nothing is ever sent to another server than the one a pane lives on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from tmux_orc.core.ports import OpenedWindow, PaneIOError, ServerUnavailable
from tmux_orc.core.strategy import CaptureResult, MonitoringStrategy
from tmux_orc.model import PaneInfo
from tmux_orc.tmux.pm_delivery import check_pane_id
from tmux_orc.tmux.runner import run_tmux
from tmux_orc.tmux.servers import ServerGone, TmuxServer, TmuxServers

log = logging.getLogger(__name__)


class MultiPaneSource:
    """Every pane of every watched server, listed concurrently; a server that does not answer is left
    out (its agents vanish only when no server is there any more, not on a slow answer)."""

    def __init__(self, servers: TmuxServers) -> None:
        self.servers = servers

    async def list_panes(self) -> list[PaneInfo]:
        """Every pane, its names qualified; raises ServerUnavailable when no server answers at all."""
        servers = self.servers.refresh()
        await self.servers.close_retired()
        now = time.monotonic()
        asked = [s for s in servers if self.servers.due(s, now)]
        results = await asyncio.gather(*(s.source.list_panes() for s in asked), return_exceptions=True)
        answered = False
        transient = ""
        for server, result in zip(asked, results, strict=True):
            if isinstance(result, list):
                self.servers.answered(server, server.qualify_all(result))
                answered = True
            elif isinstance(result, ServerUnavailable):
                self.servers.failed(server, str(result) or "no server running", unavailable=True, now=now)
            elif isinstance(result, PaneIOError | TimeoutError | OSError):
                self.servers.failed(server, str(result) or type(result).__name__, unavailable=False, now=now)
                transient = transient or f"{server.name}: {result}"
            else:
                raise result  # a bug: the cycle reports it
        if not answered:
            if transient:
                raise PaneIOError(transient)
            raise ServerUnavailable(self.describe_failure(servers))
        # a server that answered before but not now (a timeout) keeps its last panes: its agents stay
        return [pane for server in servers for pane in server.panes]

    def describe_failure(self, servers: Sequence[TmuxServer]) -> str:
        """Why no server answers, naming each one tried."""
        if not servers:
            return f"no tmux socket in {self.servers.watched.directory}"
        if len(servers) == 1:
            return servers[0].error
        return "; ".join(f"{s.path}: {s.error}" for s in servers)


class MultiPaneActions:
    """:class:`~tmux_orc.core.ports.PaneActions` routed to the server each pane or session belongs to."""

    def __init__(self, servers: TmuxServers) -> None:
        self.servers = servers

    async def pane_pid(self, pane_id: str) -> int | None:
        """The pane's first process, None when the pane (or its whole server) is gone."""
        try:
            server, local = self.servers.route(pane_id)
        except ServerGone:
            return None
        return await server.actions.pane_pid(local)

    async def pane_path(self, pane_id: str) -> str:
        """The pane's working directory, asked of its own server."""
        server, local = self.servers.route(pane_id)
        return await server.actions.pane_path(local)

    async def open_window(self, session_id: str, session: str, name: str, start_dir: str,
                          command: str) -> OpenedWindow:
        """A new window in that session, on the session's own server; the pane id comes back qualified."""
        server, local_id = self.servers.route(session_id or session)
        opened = await server.actions.open_window(local_id if session_id else "", server.strip(session), name,
                                                  start_dir, command)
        return OpenedWindow(server.prefix + opened.pane_id, opened.pane_pid, opened.window_index)

    async def kill_pane(self, pane_id: str) -> None:
        """Close the pane on its own server."""
        server, local = self.servers.route(pane_id)
        await server.actions.kill_pane(local)

    async def paste(self, pane_id: str, text: str) -> None:
        """Paste into the pane on its own server."""
        server, local = self.servers.route(pane_id)
        await server.actions.paste(local, text)

    async def press_enter(self, pane_id: str) -> None:
        """Enter in the pane on its own server."""
        server, local = self.servers.route(pane_id)
        await server.actions.press_enter(local)

    async def capture_pane(self, pane_id: str) -> str:
        """The pane's visible screen (what plugin strategies get), asked of its own server."""
        server, local = self.servers.route(pane_id)
        check_pane_id(local)
        return await run_tmux("capture-pane", "-p", "-t", local, socket=server.path,
                              timeout=self.servers.command_timeout)


class RoutedStrategy:
    """One built-in strategy over every server: each server's panes captured by that server's own
    instance (its own control connection), all servers at once."""

    def __init__(self, name: str, servers: TmuxServers) -> None:
        self.name = name
        self.servers = servers

    async def capture(self, panes: Sequence[PaneInfo], *, full: bool) -> CaptureResult:
        """Group by server, capture each group in its server's names, answer in qualified names."""
        groups: dict[str, list[PaneInfo]] = {}
        for pane in panes:
            groups.setdefault(pane.server, []).append(pane)
        result = CaptureResult()
        jobs: list[tuple[TmuxServer, MonitoringStrategy, list[PaneInfo]]] = []
        for name, group in groups.items():
            server = self.servers.by_name(name)
            strategy = server.strategies.get(self.name) if server is not None else None
            if server is None or strategy is None:
                for pane in group:
                    result.errors[pane.pane_id] = f"tmux server {name or '?'} is not watched now"
                continue
            jobs.append((server, strategy, group))
        outcomes = await asyncio.gather(*(strategy.capture([server.local(p) for p in group], full=full)
                                          for server, strategy, group in jobs), return_exceptions=True)
        for (server, _, group), outcome in zip(jobs, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, Exception):
                    raise outcome
                log.debug("strategy %s on tmux server %s raised", self.name, server.name, exc_info=outcome)
                for pane in group:
                    result.errors[pane.pane_id] = f"{type(outcome).__name__}: {outcome}"
                continue
            p = server.prefix
            result.screens.update({p + k: v for k, v in outcome.screens.items()})
            result.errors.update({p + k: v for k, v in outcome.errors.items()})
        return result

    async def aclose(self) -> None:
        """Nothing of its own: each server's instance is closed with its server."""
        return None


class MultiFeed:
    """The change feed (:class:`~tmux_orc.core.follow.ChangeFeed`) of every server, as one."""

    def __init__(self, servers: TmuxServers) -> None:
        self.servers = servers
        self._pending: dict[str, asyncio.Future[set[str]]] = {}  # per server path: its feed's wait, running

    @property
    def notifications(self) -> int:
        """%output lines handled, over every server (also those no longer watched)."""
        return self.servers.closed_counts[0] + sum(s.feed.notifications for s in self.servers.servers.values())

    @property
    def changes(self) -> int:
        """Of those, the ones that made a pane count as changed."""
        return self.servers.closed_counts[1] + sum(s.feed.changes for s in self.servers.servers.values())

    @property
    def holding(self) -> int:
        """Servers whose output client holds spinners back now (their frames are many, see tmux.flow)."""
        now = time.monotonic()
        return sum(1 for s in self.servers.servers.values() if s.feed.meter.holding(now))

    async def watch(self, sessions: set[str], panes: set[str] | None = None) -> None:
        """Follow these sessions (qualified ids), each on its own server, none elsewhere; of their panes
        only ``panes`` (qualified) hold agents (None: any may)."""
        wanted: dict[str, set[str]] = {path: set() for path in self.servers.servers}
        agents: dict[str, set[str]] | None = None if panes is None else {path: set() for path in wanted}
        for sid in sessions:
            try:
                server, local = self.servers.route(sid)
            except ServerGone:
                continue
            wanted[server.path].add(local)
        for pane in panes or ():
            try:
                server, local = self.servers.route(pane)
            except ServerGone:
                continue
            assert agents is not None
            agents.setdefault(server.path, set()).add(local)
        await asyncio.gather(*(self.servers.servers[path].feed.watch(local, None if agents is None
                                                                      else agents.get(path, set()))
                               for path, local in wanted.items() if path in self.servers.servers))

    async def unsure(self) -> set[str]:
        """Followed panes of any server whose output may hold an unreported change (qualified)."""
        servers = list(self.servers.servers.values())
        found = await asyncio.gather(*(s.feed.unsure() for s in servers))
        return {s.prefix + p for s, panes in zip(servers, found, strict=True) for p in panes}

    def watching(self) -> set[str]:
        """The sessions followed now, qualified."""
        return {s.prefix + sid for s in self.servers.servers.values() for sid in s.feed.watching()}

    def forget(self, pane_id: str) -> None:
        """The pane's meaning changed: its next output is news (on its own server)."""
        try:
            server, local = self.servers.route(pane_id)
        except ServerGone:
            return
        server.feed.forget(local)

    async def changed(self, timeout: float | None = None) -> set[str]:
        """Wait for panes of any server to change; their qualified ids (empty after ``timeout``).

        With several servers each one's wait stays pending from one call to the next rather than being
        cancelled: a wait cancelled after it took its panes from the feed would lose them."""
        servers = list(self.servers.servers.values())
        if len(servers) == 1 and not self._pending:
            only = servers[0]
            return {only.prefix + p for p in await only.feed.changed(timeout)}
        for path in [path for path in self._pending if path not in self.servers.servers]:
            self._pending.pop(path).cancel()  # that server went away
        for server in servers:
            if server.path not in self._pending:
                self._pending[server.path] = asyncio.ensure_future(server.feed.changed(timeout))
        if not self._pending:
            if timeout is None:
                await asyncio.Event().wait()  # nothing to follow: until cancelled
            else:
                await asyncio.sleep(timeout)
            return set()
        await asyncio.wait(self._pending.values(), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        found: set[str] = set()
        for path, task in list(self._pending.items()):
            if not task.done():
                continue
            del self._pending[path]
            owner = self.servers.servers.get(path)
            if task.cancelled() or owner is None:
                continue
            if (error := task.exception()) is not None:
                log.warning("change feed of tmux server %s failed: %s", owner.name, error)
                continue
            found |= {owner.prefix + p for p in task.result()}
        return found
