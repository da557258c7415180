"""A persistent tmux control-mode client (``tmux -C``): many commands in flight over one connection.

tmux(1), CONTROL MODE: every command line sent on stdin produces one output block, ``%begin TIME NUM
FLAGS`` ... ``%end TIME NUM FLAGS`` (or ``%error``), in the order the commands were sent; notifications
(``%exit``, ``%session-changed``, ...) only ever come between blocks. Blocks of commands we sent carry
flags ``1``; the ``attach-session`` that started the client and hooks' commands carry ``0`` (ignored).

How this client stays out of the user's way:

- ``tmux -N``: never starts a server (``attach-session`` would otherwise start one); no server means
  "not connected", and ``-f /dev/null`` keeps a server from reading any config should one start anyway.
- ``attach-session -f ignore-size,no-output``: window sizes follow the user's clients only (a control
  client that never sets a size, and ``refresh-client -C`` is refused here, is not counted by tmux;
  ignore-size also covers the case where it had one), and tmux does not stream pane output to it.
  ``%output`` only covers the attached session: the change feed (:mod:`tmux_orc.tmux.notify`) runs one
  output client per session (``output_pause_after``: ``-f ignore-size,pause-after=N``, so tmux pauses
  a pane rather than queue its output when that client falls behind), and hands every notification
  line to ``on_notification``.
- When the attached session is destroyed tmux detaches the client (``%exit``); :meth:`ControlClient.
  ensure_connected` attaches again (to whichever session tmux picks) with backoff.
- The spawned tmux gets an environment without systemd's per-service variables.
"""

from __future__ import annotations

import asyncio
import logging
import time

from tmux_orc.tmux.connection import Connection, NotificationHandler, spawn
from tmux_orc.tmux.connection import TmuxCommandError as TmuxCommandError  # re-exported, as below
from tmux_orc.tmux.connection import TmuxDisconnected as TmuxDisconnected
from tmux_orc.tmux.connection import TmuxTimeout as TmuxTimeout
from tmux_orc.tmux.quoting import quote as quote  # re-exported for callers that import it from here
from tmux_orc.tmux.runner import TMUX, TmuxError

log = logging.getLogger(__name__)

OUTPUT_BATCH = 0.05  # seconds: an output client reads what piled up this often, not one wake-up per line
# Commands that run further tmux commands: each of those gets a reply block of its own.
_NESTING = {"if-shell", "if", "source-file", "source", "confirm-before", "confirm", "command-prompt"}
_NESTING |= {"display-menu", "menu", "display-popup", "popup"}




def check_command(cmd: str) -> None:
    """Raise ValueError unless ``cmd`` is one tmux command (so it gets exactly one reply block).

    An empty line would detach the client, a comment gets no reply at all, and an unquoted ``;``,
    a ``%if`` line or a command that runs commands (``if-shell``, ``run-shell -C``...) gets several:
    any of them would pair later replies with the wrong requests.
    """
    if "\n" in cmd or "\r" in cmd or "\0" in cmd:
        raise ValueError("tmux command must be one line (use quote() for arguments)")
    words = cmd.split()
    if not words or words[0].startswith(("#", "%")):
        raise ValueError(f"not a tmux command: {cmd!r}")
    if words[0] in _NESTING or (words[0] in ("run-shell", "run") and "-C" in words):
        raise ValueError(f"commands that run other commands are not supported here: {cmd!r}")
    if words[0] in ("refresh-client", "refresh") and any(w.startswith("-C") for w in words):
        raise ValueError("a control client with a size would resize the user's windows")
    in_single = in_double = escaped = False
    at_word_start = True
    for ch in cmd:
        if escaped:
            escaped = False
        elif in_single:
            in_single = ch != "'"
        elif ch == "\\":
            escaped = True
        elif in_double:
            in_double = ch != '"'
        elif ch == "'":
            in_single = True
        elif ch == '"':
            in_double = True
        elif ch == ";" or (at_word_start and ch in "#{}"):
            raise ValueError(f"tmux command must be a single command; quote() its arguments: {cmd!r}")
        at_word_start = ch in " \t" and not (in_single or in_double)


class ControlClient:
    """A tmux control-mode connection with pipelined commands, timeouts and reconnection.

    ``socket_path`` (``tmux -S``) or ``socket_name`` (``tmux -L``) picks the server; neither means
    tmux's default server. Call :meth:`ensure_connected` once per cycle: it re-attaches, with
    backoff, after the server or the attached session went away.
    """

    def __init__(
        self,
        socket_path: str | None = None,
        *,
        socket_name: str | None = None,
        max_in_flight: int = 64,
        command_timeout: float = 2.0,
        connect_timeout: float = 5.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        tmux: str = TMUX,
        target: str | None = None,
        output_pause_after: int | None = None,
        on_notification: NotificationHandler | None = None,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.socket_path = socket_path
        self.socket_name = socket_name
        self.max_in_flight = max_in_flight
        self.command_timeout = command_timeout
        self.connect_timeout = connect_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.tmux = tmux
        self.target = target  # the session to attach to (``$3``); None: whichever tmux picks
        # stream pane output (``%output``), paused by tmux when this client is that many seconds behind
        self.output_pause_after = output_pause_after
        self.on_notification = on_notification
        self.generation = 0  # +1 on every successful attach: pane ids may mean other panes after it
        self.last_error = "not started"
        self._conn: Connection | None = None
        self._backoff = 0.0
        self._next_attempt = 0.0
        self._lock = asyncio.Lock()

    @property
    def connected(self) -> bool:
        """True while attached to a live tmux server."""
        return self._conn is not None and not self._conn.closed

    def argv(self) -> list[str]:
        """The command line of the control client process."""
        argv = [self.tmux, "-u", "-N", "-f", "/dev/null"]  # -u: UTF-8 out whatever the locale (else '_')
        if self.socket_path:
            argv += ["-S", self.socket_path]
        elif self.socket_name:
            argv += ["-L", self.socket_name]
        attach = [*argv, "-C", "attach-session"]
        if self.target is not None:
            attach += ["-t", self.target]
        if self.output_pause_after is not None:
            return [*attach, "-f", f"ignore-size,pause-after={max(1, self.output_pause_after)}"]
        return [*attach, "-f", "ignore-size,no-output"]

    async def start(self) -> None:
        """Attach to the server; raise TmuxDisconnected (with tmux's reason) if that is not possible."""
        async with self._lock:
            if self.connected:
                return
            await self._drop()
            try:
                proc, stdout = await spawn(self.argv())
            except OSError as exc:
                self.last_error = f"cannot run {self.tmux}: {exc.strerror}"
                raise TmuxDisconnected(self.last_error) from None
            batch = OUTPUT_BATCH if self.output_pause_after is not None else None
            conn = Connection(proc, stdout, self.max_in_flight, self.on_notification, batch)
            try:
                await asyncio.wait_for(asyncio.shield(conn.attached), self.connect_timeout)
            except TimeoutError:
                conn.close_with(f"tmux did not attach within {self.connect_timeout:g}s")
            except TmuxDisconnected as exc:
                conn.close_with(str(exc))
            except BaseException:
                await conn.shutdown()
                raise
            if conn.closed:
                await conn.shutdown()
                self.last_error = conn.reason
                if not conn.attached.cancelled():
                    conn.attached.exception()  # retrieved: nobody else will
                raise TmuxDisconnected(self.last_error)
            self._conn = conn
            self.generation += 1
            self.last_error = ""
            log.info("tmux control client attached to %s (%s)", self.session, self._where())

    async def ensure_connected(self) -> bool:
        """Reconnect if needed and allowed by the backoff; return :attr:`connected`. Never raises."""
        if self.connected:
            return True
        now = time.monotonic()
        if now < self._next_attempt:
            return False
        try:
            await self.start()
        except TmuxDisconnected as exc:
            self._backoff = min(self.backoff_max, max(self.backoff_initial, self._backoff * 2))
            self._next_attempt = time.monotonic() + self._backoff
            log.debug("tmux not reachable (%s); next try in %.1fs", exc, self._backoff)
            return False
        self._backoff = 0.0
        self._next_attempt = 0.0
        return True

    async def command(self, cmd: str, timeout: float | None = None) -> list[str]:
        """Run one tmux command; return its output lines.

        Raises TmuxCommandError (tmux's message), TmuxTimeout, TmuxDisconnected, or ValueError when
        ``cmd`` is not a single one-line command. The timeout covers waiting for an in-flight slot.
        """
        check_command(cmd)
        line = cmd.encode() + b"\n"
        conn = self._conn
        if conn is None or conn.closed:
            raise TmuxDisconnected(conn.reason if conn is not None else self.last_error)
        limit = self.command_timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(limit):
                return await conn.submit(line)
        except TmuxCommandError as exc:
            exc.command = cmd
            raise
        except TimeoutError as exc:
            if isinstance(exc, TmuxError):
                raise
            raise TmuxTimeout(f"no reply from tmux within {limit:g}s to: {cmd[:80]}") from None

    @property
    def session(self) -> str:
        """``$id name`` of the session the client is attached to ("" when not connected)."""
        return self._conn.session if self.connected and self._conn is not None else ""

    @property
    def in_flight(self) -> int:
        """Commands sent whose reply has not arrived yet."""
        return len(self._conn.pending) if self._conn is not None else 0

    async def close(self) -> None:
        """Detach and stop the control client process (the tmux server is untouched)."""
        async with self._lock:
            await self._drop()
            self.last_error = "closed"

    async def __aenter__(self) -> ControlClient:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.shutdown()

    def _where(self) -> str:
        return self.socket_path or (f"-L {self.socket_name}" if self.socket_name else "default socket")
