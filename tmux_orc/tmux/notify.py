"""The change feed: tmux tells which panes changed, so a changed pane is read within ~100 ms.

tmux sends ``%output %PANE data`` (``%extended-output`` with pause-after) to a control client for
every pane of the session it is attached to (only that session: tmux(1) CONTROL MODE, and
``control_write_output`` in tmux's control.c), so the feed runs one output client per watched session
(``attach-session -t $ID -f ignore-size,pause-after=1``: never resizes a window, and tmux pauses a
pane instead of queueing its output when the client falls a second behind; a ``%pause`` counts as a
change and the pane is continued at once).

Not every byte is news. An output chunk is reduced to its letters (digits, punctuation, spinner glyphs
and escape-sequence parameters dropped): a spinner frame, a clock or a token counter redrawn gives the
same letters as the frame before. A pane counts as changed only on letters not seen since its meaning
last changed (:meth:`OutputWatch.forget`), so a spinner costs a few set lookups per frame and a
permission dialog drawn over it is read at once. ``%window-add``, ``%window-close``,
``%window-renamed``, ``%sessions-changed`` and ``%unlinked-window-close`` bring the next full
reconciliation forward (``on_structure``); it still runs every ``interval`` regardless.

Flow control (:mod:`tmux_orc.tmux.flow`): panes without a followed agent are held back once they print
(``refresh-client -A '%N:pause'``); the cycle reads them. A followed pane's frames that say nothing new
stream on while this server's output client gets fewer than ``STREAM_BUDGET`` of them a second (the
``spinner_stream_budget`` setting; a dialog drawn over a stopped spinner is then read as it comes);
above that, such a frame holds its pane for ``hold`` seconds, after which it must print again within
``quiet`` or it is read. News is never held (it is read ~100 ms later, as it comes). So under many
spinners each costs tmux about one ``%output`` a second instead of one per frame, and a dialog drawn
over a stopped spinner is read ``hold`` + ``quiet`` seconds later at most; panes whose output was
dropped are :meth:`OutputWatch.unsure` until read (the follower reads them every few reconciliations).
Pauses are sent ``PAUSE_BATCH`` after the first frame that asks for one, for every pane that asked
meanwhile: spinners let go together print their next frames together.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import re
import time
from collections.abc import Callable

from tmux_orc.tmux.control import ControlClient, quote
from tmux_orc.tmux.flow import HOLD, QUIET, STREAM_BUDGET, FrameMeter, PaneFlow
from tmux_orc.tmux.runner import TMUX, TmuxError

log = logging.getLogger(__name__)

COALESCE = 0.1  # seconds from a pane's first change to its reading (changes meanwhile share it)
RETRY_CONTINUE = 0.5  # seconds before panes whose continue failed are continued again
PAUSE_BATCH = 0.05  # seconds spinner frames gather before one command pauses all their panes
MAX_FINGERPRINTS = 64  # per pane; a pane printing ever new text is simply read each time
_NOT_LETTERS = re.compile(r"[\W\d_]+")
_SESSION_ID = re.compile(r"\$[0-9]+")
_PANE_ID = re.compile(r"%[0-9]+")
STRUCTURE = frozenset({"%window-add", "%window-close", "%unlinked-window-close", "%window-renamed",
                       "%sessions-changed"})


def output_fingerprint(data: str) -> int:
    """What an output chunk says, apart from numbers and animation: a hash of its letters."""
    return hash(_NOT_LETTERS.sub("", data))


class OutputWatch:
    """Output clients per session, and the panes that changed since the last :meth:`changed`."""

    def __init__(self, socket_path: str | None, *, coalesce: float = COALESCE, pause_after: int = 1,
                 command_timeout: float = 2.0, tmux: str = TMUX, hold: float = HOLD, quiet: float = QUIET,
                 flow_control: bool = True, stream_budget: int = STREAM_BUDGET) -> None:
        self.socket_path = socket_path
        self.coalesce = coalesce
        self.pause_after = pause_after
        self.hold = hold
        self.quiet = quiet
        self.flow_control = flow_control  # False: every pane streamed, frame by frame
        self.command_timeout = command_timeout
        self.tmux = tmux
        self.on_structure: Callable[[], None] | None = None  # a window or session came or went
        self.notifications = 0  # %output lines handled
        self.changes = 0  # of those, the ones that made a pane count as changed
        self._clients: dict[str, ControlClient] = {}  # session id -> its output client
        self._generations: dict[str, int] = {}
        self._seen: dict[str, set[int]] = {}  # pane id -> fingerprints since its meaning last changed
        self._changed: dict[str, float] = {}  # pane id -> when its first unread change arrived
        self._wakeup = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._flows: dict[str, PaneFlow] = {}  # session id -> what its output client holds back
        self.meter = FrameMeter(stream_budget)  # spinners are held back only while this server's frames are many
        self._followed: set[str] | None = None  # pane ids with an agent to follow; None: all
        self._flushing: set[str] = set()  # sessions with pauses about to be sent
        self._pacer: asyncio.Task[None] | None = None
        self._pace = asyncio.Event()  # a hold began while the pacer had nothing to wait for
        self._pace_at = math.inf  # when the pacer wakes next

    @property
    def sessions(self) -> set[str]:
        """The sessions with an output client attached now."""
        return {sid for sid, client in self._clients.items() if client.connected}

    def watching(self) -> set[str]:
        """The sessions whose changes are reported now (see :attr:`sessions`)."""
        return self.sessions

    async def watch(self, sessions: set[str], panes: set[str] | None = None) -> None:
        """Keep one output client attached to each of ``sessions`` (ids like ``$3``), none elsewhere;
        follow the output of ``panes`` (ids like ``%5``; None: every pane), hold the others back.

        Never raises: a session that cannot be attached is tried again (with backoff) on the next call.
        """
        wanted = {sid for sid in sessions if _SESSION_ID.fullmatch(sid)}
        for sid in list(self._clients.keys() - wanted):
            await self._clients.pop(sid).close()
            self._generations.pop(sid, None)
            self._flows.pop(sid, None)
        for sid in wanted - self._clients.keys():
            self._clients[sid] = ControlClient(
                self.socket_path, target=sid, output_pause_after=self.pause_after, tmux=self.tmux,
                command_timeout=self.command_timeout, connect_timeout=self.command_timeout,
                on_notification=functools.partial(self._on_notification, sid),
            )
            self._flows[sid] = PaneFlow(self.hold, self.quiet)
        await asyncio.gather(*(client.ensure_connected() for client in self._clients.values()
                               if not client.connected))
        reattached = False
        for sid, client in self._clients.items():
            if client.connected and self._generations.get(sid) != client.generation:
                if sid in self._generations:  # re-attached (maybe to another server): pane ids start over
                    self._seen.clear()
                    reattached = True
                self._generations[sid] = client.generation
                self._flows[sid].reset()  # a new client: tmux holds nothing back for it
        self._followed = None if panes is None else set(panes)
        if reattached:
            for pane in self._followed or ():
                self._mark(pane)  # what was drawn while no client was attached was reported by no one
        if self.flow_control:
            back = {sid: flow.follow(self._followed) for sid, flow in self._flows.items()}
            await self._continue_all(back)
            for pane in {pane for panes in back.values() for pane in panes}:
                self._mark(pane)  # held (maybe since it printed a change) before it was followed: read it
            if self._pacer is None or self._pacer.done():
                self._pacer = asyncio.get_running_loop().create_task(self._run_pacer(), name="tmux-orc-pacer")

    async def changed(self, timeout: float | None = None) -> set[str]:
        """Wait for panes to change; return them once the first is ``coalesce`` seconds old (an empty set
        after ``timeout`` seconds without a change). The panes are let go by tmux before this returns:
        the caller reads them next, and anything they print after that is streamed again."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._changed:
            self._wakeup.clear()
            if deadline is None:
                await self._wakeup.wait()
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                return set()
            try:
                await asyncio.wait_for(self._wakeup.wait(), left)
            except TimeoutError:
                return set()
        first = min(self._changed.values())
        delay = first + self.coalesce - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        panes = set(self._changed)
        self._changed.clear()
        await self._release(panes)
        return panes

    async def unsure(self) -> set[str]:
        """Followed panes whose output tmux dropped since they were last read (a change drawn while
        they were held may be among it): let go now, for the caller to read them next."""
        panes: set[str] = set()
        for flow in self._flows.values():
            panes |= flow.unsure()
        await self._release(panes)
        return panes

    def forget(self, pane_id: str) -> None:
        """The pane's meaning changed: any output it prints from now on is news again."""
        self._seen.pop(pane_id, None)

    async def close(self) -> None:
        """Detach every output client."""
        if self._pacer is not None:
            self._pacer.cancel()
            await asyncio.gather(self._pacer, return_exceptions=True)
            self._pacer = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.close()

    # --- notifications -------------------------------------------------------------------------------
    def _on_notification(self, session: str, name: str, rest: str) -> None:
        if name in ("%output", "%extended-output"):
            # "%PANE data"; with pause-after: "%PANE AGE ... : data" (tmux(1), CONTROL MODE)
            pane, _, data = rest.partition(" ")
            if name == "%extended-output":
                data = data.partition(" : ")[2]
            self.notifications += 1
            news = self._news(pane, data)
            if news and (self._followed is None or pane in self._followed):
                self._mark(pane)
            flow = self._flows.get(session)
            if self.flow_control and flow is not None and not flow.is_held(pane):
                now = time.monotonic()
                if not news and (self._followed is None or pane in self._followed):
                    self.meter.frame(now)
                flow.output(pane, news, now, hold=self.meter.holding(now))
                if not flow.is_held(pane):
                    return
                if self._pace_at == math.inf:
                    self._pace.set()
                if session not in self._flushing:
                    self._flushing.add(session)
                    asyncio.get_running_loop().call_later(PAUSE_BATCH, self._flush, session)
        elif name == "%pause":
            pane = rest.strip()
            flow = self._flows.get(session)
            if _PANE_ID.fullmatch(pane) and not (flow is not None and flow.is_held(pane)):
                # tmux paused it because this client fell behind (pause-after), not at our asking
                self._mark(pane)
                self._spawn(self._send(session, [pane], "continue"))
        elif name == "%pane-mode-changed":
            self._mark(rest.strip())
        elif name in STRUCTURE and self.on_structure is not None:
            self.on_structure()

    def _news(self, pane: str, data: str) -> bool:
        """True if the chunk's letters were not seen on this pane since its meaning last changed."""
        seen = self._seen.setdefault(pane, set())
        fingerprint = output_fingerprint(data)
        if fingerprint in seen:
            return False
        if len(seen) >= MAX_FINGERPRINTS:
            seen.clear()
        seen.add(fingerprint)
        return True

    def _mark(self, pane: str) -> None:
        self.changes += 1
        self._changed.setdefault(pane, time.monotonic())
        self._wakeup.set()

    # --- flow control --------------------------------------------------------------------------------
    def _flush(self, session: str) -> None:
        """The pauses asked for by the notifications of the last ``PAUSE_BATCH`` seconds, as one command
        (the spinners let go together print their next frames within a few tenths of a second)."""
        self._flushing.discard(session)
        flow = self._flows.get(session)
        if flow is not None and (panes := flow.take_pauses()):
            self._spawn(self._send(session, panes, "pause"))

    async def _release(self, panes: set[str]) -> None:
        """Continue the held ones of ``panes`` (they are read next), and wait until tmux has done so."""
        if self.flow_control and panes:
            await self._continue_all({sid: flow.release(panes) for sid, flow in self._flows.items()})

    async def _continue_all(self, panes: dict[str, list[str]]) -> None:
        await asyncio.gather(*(self._send(sid, ids, "continue") for sid, ids in panes.items() if ids))

    async def _run_pacer(self) -> None:
        """Let held panes go when their hold ends, and mark those that then stay silent."""
        while True:
            now = time.monotonic()
            due: dict[str, list[str]] = {}
            for sid, flow in self._flows.items():
                for pane in flow.silent(now):
                    self._mark(pane)  # it stopped printing while held: read what it drew meanwhile
                due[sid] = flow.due(now)
            await self._continue_all(due)
            self._pace_at = min((flow.next_at() for flow in self._flows.values()), default=math.inf)
            self._pace.clear()
            timeout = None if self._pace_at == math.inf else max(0.01, self._pace_at - time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._pace.wait(), timeout)

    async def _send(self, session: str, panes: list[str], action: str) -> None:
        """``refresh-client -A '%N:action' ...`` on the session's output client (tmux >= 3.2)."""
        client = self._clients.get(session)
        if client is None or not client.connected or not panes:
            return
        args = " ".join(f"-A {quote(pane + ':' + action)}" for pane in panes)
        try:
            await client.command(f"refresh-client {args}")
        except (TmuxError, TimeoutError) as exc:  # gone (the next connection starts afresh) or slow
            log.debug("refresh-client -A ...:%s for %d panes failed: %s", action, len(panes), exc)
            flow = self._flows.get(session)
            if action == "continue" and flow is not None and client.connected:
                # tmux may still hold them back (a command waiting for a slot was never sent): a pane
                # left paused would show no change again; continue them once more a little later
                flow.retry(panes, time.monotonic() + RETRY_CONTINUE)
                self._pace.set()

    def _spawn(self, coro: object) -> None:
        assert asyncio.iscoroutine(coro)
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
