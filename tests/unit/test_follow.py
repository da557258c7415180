"""core.follow: the loop between cycles, with a fake feed and a fake core (no tmux)."""

from __future__ import annotations

import asyncio
from typing import Any

from tmux_orc.core import follow


class FakeFeed:
    """A feed with no changes; every pane it ever held back is unsure."""

    def __init__(self) -> None:
        self.unsure_calls: list[int] = []
        self.core: Any = None

    async def watch(self, sessions: set[str], panes: set[str] | None = None) -> None:
        return None

    async def changed(self, timeout: float | None = None) -> set[str]:
        await asyncio.sleep(0.005)
        return set()

    async def unsure(self) -> set[str]:
        self.unsure_calls.append(self.core.cycles)
        return {"%1"}

    def forget(self, pane_id: str) -> None:
        return None

    def watching(self) -> set[str]:
        return set()


class FakeCore:
    """The parts of MonitorCore the loop touches."""

    def __init__(self) -> None:
        self.cycles = 0
        self.last_full_cycle = -1
        self.running = True
        self.confirm_at: dict[str, float] = {}
        self.rereads: list[set[str]] = []
        self.tracker = type("T", (), {"records": {}})()
        self.on_meaning_changed: Any = None
        self.watching: Any = None

    def followed_sessions(self) -> set[str]:
        return {"$0"}

    def clock(self) -> float:
        return 0.0

    async def reread(self, panes: set[str]) -> None:
        if panes:
            self.rereads.append(set(panes))


def test_held_back_panes_are_read_every_few_cycles_not_every_cycle() -> None:
    """Reading every held spinner at every cycle cost more than the cycle: they are read every
    UNSURE_EVERY cycles."""

    async def scenario() -> tuple[list[int], list[set[str]]]:
        core, feed = FakeCore(), FakeFeed()
        feed.core = core
        task = asyncio.get_running_loop().create_task(follow.follow_changes(core, feed))  # type: ignore[arg-type]
        for _ in range(3 * follow.UNSURE_EVERY):
            await asyncio.sleep(0.02)
            core.cycles += 1
        await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return feed.unsure_calls, core.rereads

    calls, rereads = asyncio.run(scenario())
    every = follow.UNSURE_EVERY
    assert calls == [every, 2 * every, 3 * every]
    assert rereads == [{"%1"}] * 3


def test_a_full_refresh_counts_as_a_reading_of_the_held_back_panes() -> None:
    """The cycle's full refresh captured every pane, held ones too: the next reading of the unsure
    panes comes UNSURE_EVERY cycles after it, not right after it."""
    every = follow.UNSURE_EVERY

    async def scenario() -> list[int]:
        core, feed = FakeCore(), FakeFeed()
        feed.core = core
        task = asyncio.get_running_loop().create_task(follow.follow_changes(core, feed))  # type: ignore[arg-type]
        for _ in range(4 * every):
            await asyncio.sleep(0.02)
            if core.cycles == every + 1:
                core.last_full_cycle = core.cycles  # this cycle reads every pane
            core.cycles += 1
        await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return feed.unsure_calls

    full_done = every + 2  # the count of cycles once that full refresh is over
    assert asyncio.run(scenario()) == [every, full_done + every, full_done + 2 * every]
