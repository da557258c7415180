"""The control client's reader takes a reply block's lines in one slice up to its guard: whatever the
blocks hold (lines that look like guards of other blocks, like notifications, empty lines) and however
the pipe cuts the stream, it hands out exactly what reading line by line would."""

from __future__ import annotations

import asyncio
from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st

from tmux_orc.tmux.connection import Connection

TEXT = st.sampled_from(["", "x", "%end 1 2 1", "%error 1 2 1", "%output %1 hi", "%begin 7 3 1", "é ü ✶", "%begin",
                        "%exit"])
NOTE = st.sampled_from(["%output %1 a", "%output %2 \\033[1m", "%window-add @1", "%sessions-changed"])


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[str], list[list[str]], list[bool], list[str]]:
    """Protocol lines: notifications and reply blocks (ours carry flags 1); the blocks' contents,
    whether each succeeded, the notifications."""
    lines: list[str] = []
    blocks: list[list[str]] = []
    oks: list[bool] = []
    notes: list[str] = []
    for number in range(draw(st.integers(0, 6))):
        notes += (more := draw(st.lists(NOTE, max_size=3)))
        lines += more
        near = st.sampled_from([f"%end 7 {number} 1x", f"%end 7 {number} 1 ", f" %end 7 {number} 1",
                                f"%end 7 {number} 0", f"%error 7 {number} 2", f"x%end 7 {number} 1"])
        body = draw(st.lists(TEXT | near, max_size=8))  # near: all but this block's guard
        ok = draw(st.booleans())
        lines += [f"%begin 7 {number} 1", *body, f"{'%end' if ok else '%error'} 7 {number} 1"]
        blocks.append(body)
        oks.append(ok)
    notes += (more := draw(st.lists(NOTE, max_size=3)))
    lines += more
    return lines, blocks, oks, notes


class Pieces:
    """A pipe that hands over these pieces, one a read, then its end."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = list(pieces)

    async def read(self) -> bytes:
        return self.pieces.pop(0) if self.pieces else b""


def reader_state() -> tuple[Connection, list[tuple[str, str]]]:
    conn = Connection.__new__(Connection)  # only the reader's state: no tmux process behind it
    notes: list[tuple[str, str]] = []
    conn._block = None
    conn.session, conn.exit_reason, conn.closed = "", "", False
    conn.attached = asyncio.get_running_loop().create_future()
    conn.on_notification = lambda name, rest: notes.append((name, rest))
    conn.pending = deque()
    conn.slots = asyncio.Semaphore(64)
    return conn, notes


@settings(max_examples=300, deadline=None)
@given(streams(), st.lists(st.integers(1, 40), min_size=1, max_size=30))
def test_blocks_and_notifications_come_out_as_line_by_line(
    stream: tuple[list[str], list[list[str]], list[bool], list[str]], cuts: list[int]
) -> None:
    lines, blocks, oks, sent = stream

    async def scenario() -> tuple[list[list[str] | str], list[tuple[str, str]]]:
        conn, notes = reader_state()
        futures = [asyncio.get_running_loop().create_future() for _ in blocks]
        conn.pending.extend(futures)
        data = ("\n".join(lines) + "\n").encode() if lines else b""
        pieces = []
        at, index = 0, 0
        while at < len(data):  # the pipe hands the stream over in pieces of any size
            size = cuts[index % len(cuts)]
            pieces.append(data[at : at + size])
            at, index = at + size, index + 1
        await conn._read_batches(Pieces(pieces), None)
        out: list[list[str] | str] = []
        for future in futures:
            exc = future.exception() if future.done() else None
            out.append(future.result() if future.done() and exc is None else str(exc))
        return out, notes

    out, notes = asyncio.run(scenario())
    replies = zip(blocks, oks, strict=True)
    assert out == [body if ok else "\n".join(body) or "tmux command failed" for body, ok in replies]
    assert notes == [(name, rest) for name, _, rest in (line.partition(" ") for line in sent)]
