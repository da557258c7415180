"""The cycle's shortcuts, on the core alone (a scripted pane source and strategy, a fixed process table):
a working screen whose meaning did not change keeps its verdict without the rules; the stuck check still
decides a frozen one."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tmux_orc.config import Settings
from tmux_orc.core.monitor import YIELD_EVERY, MonitorCore
from tmux_orc.core.rollout import LEGACY
from tmux_orc.core.strategy import CaptureResult
from tmux_orc.demo.screens import SimScreen, render
from tmux_orc.model import PaneInfo, ProcessInfo, State
from tmux_orc.procfs import ProcessTable

PANE = PaneInfo(pane_id="%1", session="team", window_index=0, window_name="Claude-developer", pane_index=0,
                pane_pid=100, current_command="claude", title="✳ Claude Code", width=100, height=30)
TABLE = ProcessTable.from_processes([
    ProcessInfo(pid=100, ppid=1, state="S", comm="claude", argv=("claude",), pgrp=100, tpgid=100),
])


def working(frame: int, seconds: int, tokens: int) -> str:
    lines = render(SimScreen(phase="working", spinner_verb="Thinking", frame=frame, working_seconds=seconds,
                             tokens=tokens), 100, 30)
    return "\n".join(lines) + "\n"


@dataclass
class Scripted:
    """The pane source and the strategy at once: the next screen is whatever the test set."""

    screen: str = ""
    name: str = LEGACY
    captures: list[str] = field(default_factory=list)

    async def list_panes(self) -> list[PaneInfo]:
        return [PANE]

    async def capture(self, panes: Sequence[PaneInfo], *, full: bool) -> CaptureResult:
        self.captures.append(self.screen)
        return CaptureResult(screens={p.pane_id: self.screen for p in panes})

    async def aclose(self) -> None:
        return None


def make_core(stuck_after: float = 300.0) -> tuple[MonitorCore, Scripted, list[float]]:
    scripted = Scripted()
    now = [1000.0]
    core = MonitorCore(Settings(stuck_after=stuck_after, starting_after=1.0), scripted, {LEGACY: scripted},
                       assign_strategies=lambda sessions: {}, clock=lambda: now[0],
                       read_processes=lambda pids: TABLE)
    return core, scripted, now


async def turn(core: MonitorCore, scripted: Scripted, now: list[float], screen: str, step: float = 2.0) -> int:
    now[0] += step
    scripted.screen = screen
    report = await core.run_cycle()
    return report.classify_skipped


def test_spinner_clock_and_counters_keep_the_verdict_without_the_rules() -> None:
    async def scenario() -> None:
        core, scripted, now = make_core()
        await turn(core, scripted, now, working(0, 1, 10))
        await turn(core, scripted, now, working(1, 2, 20))
        rec = core.tracker.records["team:0.0"]
        assert rec.view.state is State.WORKING
        skipped = [await turn(core, scripted, now, working(f, f + 2, 20 + f * 7)) for f in range(2, 8)]
        assert skipped == [1] * 6  # spinner frame, clock and token counter moved: no classification
        assert rec.view.state is State.WORKING
        assert rec.observation is not None and rec.observation.unchanged_since == now[0]  # counters = progress
        dialog = render(SimScreen(phase="permission", permission_command="npm test", permission_reason="tests"),
                        100, 30)
        assert await turn(core, scripted, now, "\n".join(dialog) + "\n") == 0  # new meaning: the rules run
        await turn(core, scripted, now, "\n".join(dialog) + "\n")
        assert rec.view.state is State.WAITING_INPUT

    asyncio.run(scenario())


def test_a_screen_frozen_but_for_its_clock_still_becomes_stuck() -> None:
    async def scenario() -> None:
        core, scripted, now = make_core(stuck_after=20.0)
        await turn(core, scripted, now, working(0, 1, 10))
        await turn(core, scripted, now, working(1, 2, 20))  # the token count moves once more, then stops
        rec = core.tracker.records["team:0.0"]
        states = []
        for second in range(3, 30):
            await turn(core, scripted, now, working(second, second, 20), step=2.0)
            states.append(rec.view.state)
        assert states[0] is State.WORKING and states[-1] is State.STUCK
        # stuck once the clock alone moved for stuck_after (20 s at 2 s a cycle, two readings to confirm)
        assert states.index(State.STUCK) <= 20 // 2 + 2

    asyncio.run(scenario())


@dataclass
class ManyPanes:
    """A source and strategy with ``count`` agents, one per window; every screen is an idle prompt."""

    count: int
    name: str = LEGACY

    async def list_panes(self) -> list[PaneInfo]:
        return [PaneInfo(pane_id=f"%{i}", session="team", window_index=i, window_name=f"Claude-a{i}", pane_index=0,
                         pane_pid=1000 + i, current_command="claude", title="✳ Claude Code", width=100, height=30)
                for i in range(self.count)]

    async def capture(self, panes: Sequence[PaneInfo], *, full: bool) -> CaptureResult:
        screen = "\n".join(render(SimScreen(), 100, 30)) + "\n"
        return CaptureResult(screens={p.pane_id: screen for p in panes})

    async def aclose(self) -> None:
        return None


def test_a_cycle_over_many_agents_lets_the_event_loop_turn() -> None:
    """A client's call is answered while a cycle works through hundreds of agents, not after it: the
    loop turns between batches of ``YIELD_EVERY`` agents, in the discover and the classify passes."""
    count = 4 * YIELD_EVERY
    table = ProcessTable.from_processes([
        ProcessInfo(pid=1000 + i, ppid=1, state="S", comm="claude", argv=("claude",), pgrp=1000 + i,
                    tpgid=1000 + i) for i in range(count)])
    source = ManyPanes(count)
    core = MonitorCore(Settings(), source, {LEGACY: source}, assign_strategies=lambda sessions: {},
                       read_processes=lambda pids: table)
    turns = 0
    seen: dict[str, list[int]] = {"discover": [], "classify": []}  # the loop's turns at each agent
    discover, classify = core._discover, core._classify

    def counting_discover(*args: Any) -> Any:
        seen["discover"].append(turns)
        return discover(*args)

    def counting_classify(*args: Any) -> Any:
        seen["classify"].append(turns)
        return classify(*args)

    core._discover = counting_discover  # type: ignore[method-assign]
    core._classify = counting_classify  # type: ignore[method-assign]

    async def scenario() -> None:
        nonlocal turns
        cycling = True

        async def other_client() -> None:
            nonlocal turns
            while cycling:
                turns += 1
                await asyncio.sleep(0)

        task = asyncio.get_running_loop().create_task(other_client())
        await core.run_cycle()
        cycling = False
        await task

    asyncio.run(scenario())
    assert core.tracker.count() == count
    for name in ("discover", "classify"):
        batches = [seen[name][i:i + YIELD_EVERY] for i in range(0, count, YIELD_EVERY)]
        assert all(len(set(batch)) == 1 for batch in batches)  # a batch runs in one go
        firsts = [batch[0] for batch in batches]
        assert firsts == sorted(firsts) and len(set(firsts)) == len(batches)  # the loop turned in between


def test_an_observation_seen_again_is_the_copy_replace_would_make() -> None:
    """``Observation.again`` builds the later look directly; it must equal ``dataclasses.replace``."""
    from dataclasses import replace

    from tmux_orc.model import Observation, ToolTrack, Verdict

    prev = Observation(at=1.0, verdict=Verdict(State.IDLE, "d", "r", ("e",)), screen_hash=7, unchanged_since=0.5,
                       tools=ToolTrack(9, ((1.0, 2.0),)))
    tools = ToolTrack(9, ((1.0, 2.0), (3.0, 2.5)))
    assert prev.again(3.0, tools) == replace(prev, at=3.0, tools=tools)
    assert prev.again(3.0, None, unchanged_since=2.0) == replace(prev, at=3.0, tools=None, unchanged_since=2.0)


def test_a_frame_that_only_turned_its_spinner_is_not_laid_out_again(monkeypatch: Any) -> None:
    """The spinner's frame and clock moved: the record's progress text is reused (no layout read);
    a token counter that moved is read afresh, and a frozen-but-for-its-clock screen still goes stuck."""
    from tmux_orc.core import tracker

    reads: list[str] = []
    real = tracker.read_layout

    def counting(screen: str, shape: Any) -> Any:
        reads.append(screen)
        return real(screen, shape)

    monkeypatch.setattr(tracker, "read_layout", counting)

    async def scenario() -> None:
        core, scripted, now = make_core(stuck_after=20.0)
        await turn(core, scripted, now, working(0, 1, 10))
        await turn(core, scripted, now, working(1, 2, 20))
        reads.clear()
        for second in range(3, 8):
            await turn(core, scripted, now, working(second, second, 20))
        assert reads == []  # frame and clock only
        await turn(core, scripted, now, working(9, 9, 30))
        assert len(reads) == 1  # the counter moved: progress, read
        rec = core.tracker.records["team:0.0"]
        for second in range(10, 40):
            await turn(core, scripted, now, working(second, second, 30))
        assert rec.view.state is State.STUCK

    asyncio.run(scenario())
