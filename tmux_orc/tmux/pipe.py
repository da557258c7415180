"""Reading the read end of a pipe straight from its file descriptor, in the event loop.

A control client's stdout is read in batches (an output client reads what piled up every
``OUTPUT_BATCH`` seconds). Through an asyncio transport each batch cost a resume (``epoll_ctl``), a
wake-up for readiness, the protocol's ``data_received``, the stream's waiter and a pause again
(``epoll_ctl``) before the bytes were in hand. Here a batch is one ``os.read`` of a non-blocking
descriptor; the loop watches the descriptor only while the pipe is empty (``loop.add_reader`` until
it is readable), so an idle client costs nothing and a busy one no readiness round trip.
"""

from __future__ import annotations

import asyncio
import os

CHUNK = 1 << 16  # a pipe holds 64 KiB unless resized (pipe(7)): a full read means more may be waiting
MOST = 1 << 22  # bytes one read() returns at most (the rest waits for the next)


class PipeReader:
    """The read end of a pipe, read without a transport (the descriptor is made non-blocking)."""

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self.fd = fd
        self._loop = asyncio.get_running_loop()
        self._closed = False

    async def read(self) -> bytes:
        """What the pipe holds now, waiting until it holds something; ``b""`` once the writer closed it
        (after the last bytes were returned). Raises OSError if reading fails or the reader is closed
        (its descriptor number may belong to another file by then)."""
        while True:
            if self._closed:
                raise OSError("pipe reader closed")
            try:
                data = os.read(self.fd, CHUNK)
            except BlockingIOError:
                await self._readable()
                continue
            parts, size = [data], len(data)
            while len(parts[-1]) == CHUNK and size < MOST:  # a full read: more may be waiting
                try:
                    more = os.read(self.fd, CHUNK)
                except BlockingIOError:
                    break
                if not more:
                    break  # end of file: the next read() says so
                parts.append(more)
                size += len(more)
            return b"".join(parts)  # one part: that very object, no copy

    async def _readable(self) -> None:
        """Wait until the descriptor is readable (data or end of file)."""
        ready: asyncio.Future[None] = self._loop.create_future()
        self._loop.add_reader(self.fd, _settle, ready)
        try:
            await ready
        finally:
            self._loop.remove_reader(self.fd)

    def close(self) -> None:
        """Close the descriptor (once; a read waiting on it must have finished)."""
        if not self._closed:
            self._closed = True
            os.close(self.fd)


def _settle(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)
