"""PipeReader: a pipe's read end read straight from its descriptor (real pipes, no tmux)."""

from __future__ import annotations

import asyncio
import os

import pytest

from tmux_orc.tmux.pipe import CHUNK, PipeReader


def test_it_waits_for_data_returns_what_is_there_and_then_the_end() -> None:
    async def scenario() -> list[bytes]:
        read_end, write_end = os.pipe()
        reader = PipeReader(read_end)
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, os.write, write_end, b"%output %1 a\n")
        first = await reader.read()  # nothing there yet: waits until the write
        os.write(write_end, b"%output %1 b\n")
        os.write(write_end, b"%output %1 c\n")
        second = await reader.read()  # both writes in one read
        os.close(write_end)
        end = await reader.read()
        reader.close()
        reader.close()  # once only
        return [first, second, end]

    assert asyncio.run(scenario()) == [b"%output %1 a\n", b"%output %1 b\n%output %1 c\n", b""]


def test_a_full_pipe_is_read_in_one_go_and_the_data_before_the_end_is_kept() -> None:
    async def scenario() -> tuple[bytes, bytes]:
        read_end, write_end = os.pipe()
        reader = PipeReader(read_end)
        payload = bytes(range(256)) * (CHUNK // 256)
        os.write(write_end, payload)  # exactly one chunk: the reader reads again, finds the end
        os.close(write_end)
        got = await reader.read()
        end = await reader.read()
        reader.close()
        return got == payload and got, end

    got, end = asyncio.run(scenario())
    assert len(got) == CHUNK and end == b""


def test_more_than_a_pipe_holds_arrives_whole_over_several_reads() -> None:
    async def scenario() -> bytes:
        read_end, write_end = os.pipe()
        reader = PipeReader(read_end)
        payload = os.urandom(5 * CHUNK + 17)

        def write_all() -> None:
            with os.fdopen(write_end, "wb") as out:  # blocks while the pipe is full
                out.write(payload)

        writer = asyncio.get_running_loop().run_in_executor(None, write_all)
        got = b""
        while chunk := await reader.read():
            got += chunk
        await writer
        reader.close()
        return got == payload

    assert asyncio.run(scenario())


def test_a_cancelled_wait_leaves_the_loop_watching_nothing() -> None:
    async def scenario() -> None:
        read_end, write_end = os.pipe()
        reader = PipeReader(read_end)
        task = asyncio.create_task(reader.read())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not asyncio.get_running_loop().remove_reader(read_end)  # nothing left registered
        reader.close()
        os.close(write_end)
        with pytest.raises(OSError):
            await reader.read()  # closed: an error, not a hang

    asyncio.run(scenario())
