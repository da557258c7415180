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
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import time
from collections.abc import Callable

from tmux_orc.tmux.control import ControlClient, quote
from tmux_orc.tmux.runner import TMUX, TmuxError

log = logging.getLogger(__name__)

COALESCE = 0.1  # seconds from a pane's first change to its reading (changes meanwhile share it)
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
                 command_timeout: float = 2.0, tmux: str = TMUX) -> None:
        self.socket_path = socket_path
        self.coalesce = coalesce
        self.pause_after = pause_after
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

    @property
    def sessions(self) -> set[str]:
        """The sessions with an output client attached now."""
        return {sid for sid, client in self._clients.items() if client.connected}

    def watching(self) -> set[str]:
        """The sessions whose changes are reported now (see :attr:`sessions`)."""
        return self.sessions

    async def watch(self, sessions: set[str]) -> None:
        """Keep one output client attached to each of ``sessions`` (ids like ``$3``), none elsewhere.

        Never raises: a session that cannot be attached is tried again (with backoff) on the next call.
        """
        wanted = {sid for sid in sessions if _SESSION_ID.fullmatch(sid)}
        for sid in list(self._clients.keys() - wanted):
            await self._clients.pop(sid).close()
            self._generations.pop(sid, None)
        for sid in wanted - self._clients.keys():
            self._clients[sid] = ControlClient(
                self.socket_path, target=sid, output_pause_after=self.pause_after, tmux=self.tmux,
                command_timeout=self.command_timeout, connect_timeout=self.command_timeout,
                on_notification=functools.partial(self._on_notification, sid),
            )
        await asyncio.gather(*(client.ensure_connected() for client in self._clients.values()
                               if not client.connected))
        for sid, client in self._clients.items():
            if client.connected and self._generations.get(sid) != client.generation:
                if sid in self._generations:  # re-attached (maybe to another server): pane ids start over
                    self._seen.clear()
                self._generations[sid] = client.generation

    async def changed(self) -> set[str]:
        """Wait for panes to change; return them once the first is ``coalesce`` seconds old."""
        while not self._changed:
            self._wakeup.clear()
            await self._wakeup.wait()
        first = min(self._changed.values())
        delay = first + self.coalesce - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        panes = set(self._changed)
        self._changed.clear()
        return panes

    def forget(self, pane_id: str) -> None:
        """The pane's meaning changed: any output it prints from now on is news again."""
        self._seen.pop(pane_id, None)

    async def close(self) -> None:
        """Detach every output client."""
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
            seen = self._seen.setdefault(pane, set())
            fingerprint = output_fingerprint(data)
            if fingerprint in seen:
                return
            if len(seen) >= MAX_FINGERPRINTS:
                seen.clear()
            seen.add(fingerprint)
            self._mark(pane)
        elif name == "%pause":
            pane = rest.strip()
            if _PANE_ID.fullmatch(pane):
                self._mark(pane)
                self._spawn(self._continue(session, pane))
        elif name == "%pane-mode-changed":
            self._mark(rest.strip())
        elif name in STRUCTURE and self.on_structure is not None:
            self.on_structure()

    def _mark(self, pane: str) -> None:
        self.changes += 1
        self._changed.setdefault(pane, time.monotonic())
        self._wakeup.set()

    async def _continue(self, session: str, pane: str) -> None:
        client = self._clients.get(session)
        if client is None or not client.connected:
            return
        with contextlib.suppress(TmuxError, TimeoutError):
            await client.command(f"refresh-client -A {quote(pane + ':continue')}")

    def _spawn(self, coro: object) -> None:
        assert asyncio.iscoroutine(coro)
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
