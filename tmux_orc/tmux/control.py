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
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable

from tmux_orc.tmux.quoting import quote as quote  # re-exported for callers that import it from here
from tmux_orc.tmux.runner import TMUX, TmuxError, TmuxUnavailable, clean_environment

log = logging.getLogger(__name__)

_LINE_LIMIT = 1 << 22  # longest line read from tmux (a capture of a very wide pane)
_STDERR_LINES = 5
OUTPUT_BATCH = 0.05  # seconds: an output client reads what piled up this often, not one wake-up per line
# Commands that run further tmux commands: each of those gets a reply block of its own.
_NESTING = {"if-shell", "if", "source-file", "source", "confirm-before", "confirm", "command-prompt"}
_NESTING |= {"display-menu", "menu", "display-popup", "popup"}


NotificationHandler = Callable[[str, str], None]  # ("%output", "%3 text...") for each notification line


class TmuxCommandError(TmuxError):
    """tmux answered a command with ``%error``; the message is tmux's own."""

    def __init__(self, command: str, message: str) -> None:
        super().__init__(message or "tmux command failed")
        self.command = command


class TmuxTimeout(TmuxError, TimeoutError):
    """No reply to a command within its timeout."""


class TmuxDisconnected(TmuxUnavailable):
    """The control connection is not there (no server, no session, or it went away)."""


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


class _Connection:
    """One running ``tmux -C`` process: its pipes, the replies still owed, and the reader tasks."""

    def __init__(self, proc: asyncio.subprocess.Process, max_in_flight: int,
                 on_notification: NotificationHandler | None = None, batch: float | None = None) -> None:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        self.proc = proc
        self.stdin = proc.stdin
        self.pending: deque[asyncio.Future[list[str]]] = deque()
        self.slots = asyncio.Semaphore(max_in_flight)
        self.closed = False
        self.reason = ""
        self.exit_reason = ""
        self.session = ""
        self.attached: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.stderr_tail: deque[str] = deque(maxlen=_STDERR_LINES)
        self.on_notification = on_notification
        self.batch = batch  # seconds between reads (lines handled in batches), None: line by line
        self._block: tuple[list[str], list[str]] | None = None  # (begin's time/number/flags, output lines)
        self._reader = asyncio.create_task(self._read_stdout(proc.stdout), name="tmux-control-reader")
        self._stderr = asyncio.create_task(self._read_stderr(proc.stderr), name="tmux-control-stderr")

    async def submit(self, line: bytes) -> list[str]:
        """Send one encoded command line and wait for its reply block."""
        await self.slots.acquire()
        if self.closed:
            self.slots.release()
            raise TmuxDisconnected(self.reason)
        future: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        self.pending.append(future)  # appended and written with no await between: order is kept
        self.stdin.write(line)
        try:
            await self.stdin.drain()
            return await future
        except (ConnectionError, RuntimeError) as exc:
            raise TmuxDisconnected(f"tmux control connection lost: {exc}") from None
        finally:
            future.cancel()  # no-op once answered; else its late reply is dropped unread

    async def _read_stdout(self, stdout: asyncio.StreamReader) -> None:
        try:
            if self.batch is None:
                while raw := await stdout.readline():
                    if not self._line(raw.decode("utf-8", "replace").rstrip("\n")):
                        break
            else:
                await self._read_batches(stdout, self.batch)
        except (ValueError, asyncio.LimitOverrunError, ConnectionError) as exc:
            self.close_with(f"tmux control connection broke: {exc}")
        await self._reap()

    async def _read_batches(self, stdout: asyncio.StreamReader, pause: float) -> None:
        """Whatever arrived, then a pause: an output client's lines handled a batch per wake-up."""
        rest = b""
        while chunk := await stdout.read(_LINE_LIMIT):
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            if len(rest) > _LINE_LIMIT:
                raise ValueError("line from tmux too long")
            for raw in lines:
                if not self._line(raw.decode("utf-8", "replace")):
                    return
            await asyncio.sleep(pause)

    def _line(self, line: str) -> bool:
        """One line from tmux; False when the protocol is out of step (the connection is closed)."""
        block = self._block
        if block is not None:
            guard = line.split(" ")
            if guard[0] in ("%end", "%error") and guard[1:] == block[0]:
                self._finish(block[0], block[1], ok=guard[0] == "%end")
                self._block = None
            else:
                block[1].append(line)
        elif line.startswith("%begin "):
            self._block = (line.split(" ")[1:], [])
        elif not self._notification(line):
            self.close_with(f"tmux control protocol out of step at {line[:60]!r}")
            return False
        return True

    def _finish(self, guard: list[str], lines: list[str], *, ok: bool) -> None:
        """A whole reply block arrived: hand it to the oldest request (ours carry flags 1)."""
        if guard[2:] != ["1"]:  # the attach-session that started the client
            if not ok and not self.attached.done():
                self.attached.set_exception(TmuxDisconnected(" ".join(lines) or "cannot attach"))
            return
        if not self.pending:
            self.close_with("tmux sent a reply nobody asked for")
            return
        future = self.pending.popleft()
        self.slots.release()
        if future.done():  # the caller gave up (timeout / cancel)
            return
        if ok:
            future.set_result(lines)
        else:
            future.set_exception(TmuxCommandError("", "\n".join(lines)))

    def _notification(self, line: str) -> bool:
        """Handle a line outside a block; False if it is not a notification at all."""
        if not line.startswith("%"):
            return False
        name, _, rest = line.partition(" ")
        if name == "%session-changed":  # "$id name": we are (now) attached to that session
            self.session = rest
            if not self.attached.done():
                self.attached.set_result(rest)
        elif name == "%exit":
            self.exit_reason = f"tmux control client exited: {rest}" if rest else "tmux control client exited"
        if self.on_notification is not None:
            try:
                self.on_notification(name, rest)
            except Exception:  # a listener's bug must not break the protocol reader
                log.exception("tmux notification handler failed on %s", name)
        return True

    async def _read_stderr(self, stderr: asyncio.StreamReader) -> None:
        while line := await stderr.readline():
            self.stderr_tail.append(line.decode("utf-8", "replace").strip())

    async def _reap(self) -> None:
        """stdout is done: the process is exiting. Wait for it and fail every request still owed."""
        try:
            await asyncio.wait_for(self.proc.wait(), 2.0)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stderr, 1.0)
        detail = "; ".join(line for line in self.stderr_tail if line)
        self.close_with(detail or self.exit_reason or f"tmux control client exited ({self.proc.returncode})")

    def close_with(self, reason: str) -> None:
        """Mark the connection gone; every waiter gets TmuxDisconnected(reason)."""
        if not self.closed:
            self.closed = True
            self.reason = reason
        error = TmuxDisconnected(self.reason)
        if not self.attached.done():
            self.attached.set_exception(error)
        while self.pending:
            future = self.pending.popleft()
            self.slots.release()
            if not future.done():
                future.set_exception(error)
        if self.proc.returncode is None and self.stdin.can_write_eof():
            with contextlib.suppress(OSError, RuntimeError):
                self.stdin.write_eof()  # tmux -C exits on end of input

    async def shutdown(self) -> None:
        self.close_with("tmux control client closed")
        await asyncio.gather(self._reader, return_exceptions=True)
        self._stderr.cancel()
        await asyncio.gather(self._stderr, return_exceptions=True)


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
        self._conn: _Connection | None = None
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
                proc = await asyncio.create_subprocess_exec(
                    *self.argv(),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                    env=clean_environment(),
                    limit=_LINE_LIMIT,
                    start_new_session=True,  # a terminal's ^C must not reach it
                )
            except OSError as exc:
                self.last_error = f"cannot run {self.tmux}: {exc.strerror}"
                raise TmuxDisconnected(self.last_error) from None
            batch = OUTPUT_BATCH if self.output_pause_after is not None else None
            conn = _Connection(proc, self.max_in_flight, self.on_notification, batch)
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
