"""One running ``tmux -C`` process: its pipes, the reply blocks it owes, the notifications it reads.

The protocol (tmux(1), CONTROL MODE) and how the client uses it are described in
:mod:`tmux_orc.tmux.control`; this module is the part that reads and writes the pipes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import deque
from collections.abc import Callable
from typing import Protocol

from tmux_orc.tmux.pipe import PipeReader
from tmux_orc.tmux.runner import TmuxError, TmuxUnavailable, clean_environment

log = logging.getLogger(__name__)

YIELD_LINES = 200  # lines handled between turns of the event loop
LINE_LIMIT = 1 << 22  # longest line read from tmux (a capture of a very wide pane)
_STDERR_LINES = 5

NotificationHandler = Callable[[str, str], None]  # ("%output", "%3 text...") for each notification line


class ChunkSource(Protocol):
    """Where tmux's output comes from (:class:`~tmux_orc.tmux.pipe.PipeReader`)."""

    async def read(self) -> bytes:
        """The bytes available now, waiting for some; ``b""`` at the end."""


class TmuxCommandError(TmuxError):
    """tmux answered a command with ``%error``; the message is tmux's own."""

    def __init__(self, command: str, message: str) -> None:
        super().__init__(message or "tmux command failed")
        self.command = command


class TmuxTimeout(TmuxError, TimeoutError):
    """No reply to a command within its timeout."""


class TmuxDisconnected(TmuxUnavailable):
    """The control connection is not there (no server, no session, or it went away)."""


class Connection:
    """One running ``tmux -C`` process: its pipes, the replies still owed, and the reader tasks."""

    def __init__(self, proc: asyncio.subprocess.Process, stdout: PipeReader, max_in_flight: int,
                 on_notification: NotificationHandler | None = None, batch: float | None = None) -> None:
        assert proc.stdin is not None and proc.stderr is not None
        self.proc = proc
        self.stdout = stdout
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
        self._reader = asyncio.create_task(self._read_stdout(stdout), name="tmux-control-reader")
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

    async def _read_stdout(self, stdout: PipeReader) -> None:
        try:
            await self._read_batches(stdout, self.batch)
        except (ValueError, OSError) as exc:
            self.close_with(f"tmux control connection broke: {exc}")
        finally:
            stdout.close()  # the descriptor lives as long as its reader (cancelled or done)
        await self._reap()

    async def _read_batches(self, stdout: ChunkSource, pause: float | None) -> None:
        """Whatever arrived, split into lines at once; with ``pause``, then nothing is read for that long
        (the pipe, and tmux behind it, hold what comes meanwhile): an output client wakes the loop a few
        times a second, however many ``%output`` lines tmux writes."""
        rest = b""
        while chunk := await stdout.read():
            data = rest + chunk
            end = data.rfind(b"\n")  # what follows the last newline waits for the next chunk
            rest = data[end + 1 :]
            if len(rest) > LINE_LIMIT:
                raise ValueError("line from tmux too long")
            # one decode for every whole line at once (a newline is never inside a UTF-8 sequence)
            if end >= 0 and not await self._lines(data[:end].decode("utf-8", "replace")):
                return
            if pause is not None:
                await asyncio.sleep(pause)

    async def _lines(self, text: str) -> bool:
        """Whole lines (``text`` holds them joined by newlines); False once the protocol is out of step.

        The lines of a reply block (a capture, a listing: most of what tmux sends) are taken in one slice
        up to the block's closing guard, not one by one; every other line is a notification, handled
        alone, with a turn of the event loop every YIELD_LINES of them."""
        pos, size, handled = 0, len(text), 0
        while pos <= size:
            block = self._block
            if block is not None:
                guard = self._guard_in(text, pos, block[0])
                if guard < 0:
                    block[1].extend(text[pos:].split("\n"))
                    return True
                if guard > pos:
                    block[1].extend(text[pos : guard - 1].split("\n"))
                pos = guard  # the guard line itself is handled below: it ends the block
            stop = text.find("\n", pos)
            stop = size if stop < 0 else stop
            if block is None:
                handled += 1
                if handled % YIELD_LINES == 0:
                    await asyncio.sleep(0)  # a burst of notifications lets clients' calls in
            if not self._line(text[pos:stop]):
                return False
            pos = stop + 1
        return True

    @staticmethod
    def _guard_in(text: str, pos: int, begin: list[str]) -> int:
        """Where, from ``pos``, the line closing the block opened by ``%begin <begin>`` starts (-1: not
        in ``text``): a whole line ``%end <begin>`` or ``%error <begin>``, as :meth:`_line` reads it."""
        found = -1
        args = " ".join(begin)
        for word in ("%end ", "%error "):
            target = word + args
            at = text.find(target, pos)
            while at >= 0 and not (
                (at == pos or text[at - 1] == "\n")
                and (at + len(target) == len(text) or text[at + len(target)] == "\n")
            ):
                at = text.find(target, at + 1)
            if at >= 0 and (found < 0 or at < found):
                found = at
        return found

    def _line(self, line: str) -> bool:
        """One line from tmux; False when the protocol is out of step (the connection is closed)."""
        block = self._block
        if block is not None:
            guard = line.split(" ") if line.startswith(("%end ", "%error ")) else None
            if guard is not None and guard[1:] == block[0]:
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
        self.stdout.close()
        self._stderr.cancel()
        await asyncio.gather(self._stderr, return_exceptions=True)


async def spawn(argv: list[str]) -> tuple[asyncio.subprocess.Process, PipeReader]:
    """Start ``tmux -C``; its stdout is a pipe of our own, read straight from its descriptor."""
    read_end, write_end = os.pipe()
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=write_end,
            stderr=asyncio.subprocess.PIPE,
            env=clean_environment(),
            start_new_session=True,  # a terminal's ^C must not reach it
        )
    except BaseException:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
    return proc, PipeReader(read_end)
