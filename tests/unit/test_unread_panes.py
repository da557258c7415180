"""A pane whose reading failed is read by the next cycle, even when the change feed follows it.

Between full refreshes the cycle leaves out the panes the change feed follows: their changes are read
as tmux reports them. When such a reading fails (a capture timed out under load), nothing reports the
change again, so the next cycle reads the pane itself."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace

from tests.unit.test_monitor_cycle import PANE, TABLE
from tmux_orc.config import Settings
from tmux_orc.core.monitor import MonitorCore
from tmux_orc.core.strategy import CaptureResult
from tmux_orc.demo.screens import SimScreen, render
from tmux_orc.model import PaneInfo, State

FOLLOWED = replace(PANE, session_id="$0")
IDLE = "\n".join(render(SimScreen(), 100, 30)) + "\n"
DIALOG = "\n".join(render(SimScreen(phase="permission", permission_command="npm test",
                                    permission_reason="tests"), 100, 30)) + "\n"


@dataclass
class Flaky:
    """The pane source and a non-legacy strategy at once; the next ``failing`` captures time out."""

    screen: str = IDLE
    name: str = "concurrent"
    failing: int = 0
    captures: int = 0  # captures that had a pane to read

    async def list_panes(self) -> list[PaneInfo]:
        return [FOLLOWED]

    async def capture(self, panes: Sequence[PaneInfo], *, full: bool) -> CaptureResult:
        if not panes:
            return CaptureResult()
        self.captures += 1
        if self.failing:
            self.failing -= 1
            return CaptureResult(errors={p.pane_id: "capture timed out after 2s" for p in panes})
        return CaptureResult(screens={p.pane_id: self.screen for p in panes})


def make_core() -> tuple[MonitorCore, Flaky, list[float]]:
    flaky = Flaky()
    now = [1000.0]
    core = MonitorCore(Settings(starting_after=1.0), flaky, {"concurrent": flaky},
                       assign_strategies=lambda sessions: dict.fromkeys(sessions, "concurrent"),
                       clock=lambda: now[0], read_processes=lambda pids: TABLE)
    core.watching = lambda: {"$0"}  # the change feed follows the session
    return core, flaky, now


def test_a_followed_pane_whose_reading_failed_is_read_by_the_next_cycle() -> None:
    async def scenario() -> None:
        core, flaky, now = make_core()
        for _ in range(2):  # the first cycle is a full refresh; idle published after two readings
            now[0] += 2
            await core.run_cycle()
        rec = core.tracker.records["team:0.0"]
        assert rec.view.state is State.IDLE and core.followable(rec)
        captures = flaky.captures
        now[0] += 2
        await core.run_cycle()
        assert flaky.captures == captures  # followed: the cycle leaves it to the change feed

        flaky.screen, flaky.failing = DIALOG, 1
        now[0] += 0.5
        await core.reread({FOLLOWED.pane_id})  # tmux said it changed; the capture times out
        assert core.unread == {FOLLOWED.pane_id}
        for _ in range(2):  # no full refresh due: the cycles read it anyway (and confirm the dialog)
            now[0] += 2
            await core.run_cycle()
            if rec.observation is not None and rec.observation.verdict.state is State.WAITING_INPUT:
                break
        assert rec.observation is not None and rec.observation.verdict.state is State.WAITING_INPUT
        assert core.unread == set()
        captures = flaky.captures
        now[0] += 2
        await core.run_cycle()
        assert flaky.captures == captures  # read once it succeeded: followed again

    asyncio.run(scenario())


def test_a_strategy_that_raises_leaves_its_panes_unread() -> None:
    async def scenario() -> None:
        core, flaky, now = make_core()
        now[0] += 2
        await core.run_cycle()

        async def broken(panes: Sequence[PaneInfo], *, full: bool) -> CaptureResult:
            raise RuntimeError("plugin bug")

        flaky.capture = broken  # type: ignore[method-assign]
        await core.reread({FOLLOWED.pane_id})
        assert core.unread == {FOLLOWED.pane_id}

    asyncio.run(scenario())


def test_a_session_is_left_to_the_change_feed_only_from_its_second_cycle_followed() -> None:
    """What a pane drew between the cycle's reading and the feed attaching to its session was reported
    by no one: the first cycle that finds the session followed still reads its panes."""

    async def scenario() -> list[int]:
        core, flaky, now = make_core()
        watched: set[str] = set()
        core.watching = lambda: watched
        counts = []
        for step in range(4):
            if step == 2:
                watched.add("$0")  # the feed attached after this cycle's reading
            before = flaky.captures
            now[0] += 2
            await core.run_cycle()
            counts.append(flaky.captures - before)
        return counts

    assert asyncio.run(scenario()) == [1, 1, 1, 0]
