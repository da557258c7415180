"""Long synchronous stretches let the event loop turn (a client's D-Bus call waits less): a list-panes
reply of hundreds of rows is parsed in batches, and a control client's read of thousands of lines is
handled in batches. Counted in turns of a ticking task, not timed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from tests.unit.test_control_reader import Pieces
from tests.unit.test_tmux_format import row
from tmux_orc.model import PaneInfo
from tmux_orc.tmux.concurrent import PARSE_BATCH, list_panes
from tmux_orc.tmux.connection import YIELD_LINES, Connection


async def counting_turns(work: Callable[[list[int]], Awaitable[Any]]) -> tuple[Any, int]:
    """Run ``work`` beside a task that counts the loop's turns (``work`` gets the live count)."""
    turns = [0]
    stop = False

    async def tick() -> None:
        while not stop:
            turns[0] += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0)
    start = turns[0]
    try:
        result = await work(turns)
    finally:
        stop = True
        await ticker
    return result, turns[0] - start


class ListingClient:
    """Answers list-panes at once (no waiting on anything) with ``count`` rows."""

    def __init__(self, count: int) -> None:
        self.lines = [row(PaneInfo(pane_id=f"%{i}", session="s", window_index=i, window_name=f"w{i}", pane_index=0,
                                   pane_pid=100 + i, current_command="bash", session_id="$1", window_id=f"@{i}"))
                      for i in range(count)]

    async def command(self, line: str, timeout: float | None = None) -> list[str]:
        return self.lines


def test_a_long_pane_listing_is_parsed_in_batches() -> None:
    count = 4 * PARSE_BATCH + 10
    panes, turns = asyncio.run(counting_turns(lambda _turns: list_panes(ListingClient(count))))  # type: ignore[arg-type]
    assert [p.pane_id for p in panes] == [f"%{i}" for i in range(count)]
    assert turns >= 4


def test_a_control_clients_long_read_is_handled_in_batches() -> None:
    async def scenario(turns: list[int]) -> list[int]:
        seen: list[int] = []
        conn = Connection.__new__(Connection)  # only the reader's state: no tmux process behind it
        conn._block = None
        conn.session, conn.exit_reason = "", ""
        conn.attached = asyncio.get_running_loop().create_future()
        conn.on_notification = lambda name, rest: seen.append(turns[0])
        await conn._read_batches(Pieces([b"%output %1 frame\n" * (5 * YIELD_LINES)]), None)
        return seen

    seen, _turns = asyncio.run(counting_turns(scenario))
    assert len(seen) == 5 * YIELD_LINES
    assert len(set(seen)) >= 5  # the notifications were handled over several turns of the loop


def test_the_hooks_after_a_cycle_run_in_turns_of_the_loop() -> None:
    """Alerts, recovery, auto-resume and persistence each go over every agent after a cycle; most never
    wait on anything, so the loop is given a turn before each (else they ran as one block)."""
    from tests.unit.test_monitor_cycle import ManyPanes
    from tmux_orc.config import Settings
    from tmux_orc.core.assignment import StrategyAssignment
    from tmux_orc.core.monitor import MonitorCore
    from tmux_orc.core.recovery import RecoveryManager
    from tmux_orc.core.recovery_policy import RecoveryPolicy
    from tmux_orc.core.report import CycleReport
    from tmux_orc.core.rollout import LEGACY, RolloutManager
    from tmux_orc.core.service import MonitorService
    from tmux_orc.procfs import ProcessTable

    async def scenario(turns: list[int]) -> list[int]:
        source = ManyPanes(0)
        core = MonitorCore(Settings(), source, {LEGACY: source}, assign_strategies=lambda sessions: {},
                           read_processes=lambda pids: ProcessTable.from_processes([]))
        rollout = RolloutManager()
        seen: list[int] = []

        async def hook(report: CycleReport) -> None:
            seen.append(turns[0])

        service = MonitorService(Settings(), core, rollout, StrategyAssignment(rollout, Settings()),
                                 RecoveryManager(core, RecoveryPolicy(), actions=None),  # type: ignore[arg-type]
                                 metrics=dict, hooks=[(hook, False)] * 3)
        await service.run_once()
        return seen

    seen, _turns = asyncio.run(counting_turns(scenario))
    assert len(seen) == 3 and len(set(seen)) == 3
