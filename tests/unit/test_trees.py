"""Which process trees a cycle reads (core.trees): the bookkeeping alone, then a core whose reader
counts what it is asked for. A tree that may have changed is read; one that cannot is not."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from tmux_orc.config import Settings
from tmux_orc.core.monitor import MonitorCore
from tmux_orc.core.rollout import LEGACY
from tmux_orc.core.strategy import CaptureResult
from tmux_orc.core.trees import TREE_MAX_AGE, TreeSchedule, condition, max_age, probe_pids, still_holding
from tmux_orc.demo.screens import SimScreen, render
from tmux_orc.model import PaneInfo, ProcessFacts, ProcessInfo, State
from tmux_orc.procfs import ProcessTable

PANE = PaneInfo(pane_id="%1", session="team", window_index=0, window_name="Claude-developer", pane_index=0,
                pane_pid=100, current_command="bash", title="✳ Claude Code", width=100, height=30)
FACTS = ProcessFacts(kind="claude", agent_pid=101, commands=("bash", "claude"))
SHELL = ProcessInfo(pid=100, ppid=1, state="S", comm="bash", argv=("bash",), pgrp=100, tpgid=100)
AGENT = ProcessInfo(pid=101, ppid=100, state="S", comm="claude", argv=("claude",), pgrp=100, tpgid=100)


def test_a_reading_holds_while_the_pane_looks_the_same_and_for_a_bounded_time() -> None:
    schedule = TreeSchedule()
    schedule.store(PANE, FACTS, {101: "S"}, now=0.0)
    assert schedule.candidates([PANE], 5.0, stuck_after=300.0) == {100: schedule.candidates([PANE], 0.0, 300.0)[100]}
    assert schedule.candidates([PANE], TREE_MAX_AGE, 300.0) == {}  # too old
    assert schedule.candidates([PANE], -1.0, 300.0) == {}  # a clock that went back
    for changed in (replace(PANE, current_command="claude"), replace(PANE, pane_id="%9"), replace(PANE, dead=True)):
        assert schedule.candidates([changed], 1.0, 300.0) == {}, changed
    assert max_age(8.0) == 1.0  # a short stuck threshold: one tool-CPU sample's spacing
    schedule.expire(100)
    assert schedule.candidates([PANE], 1.0, 300.0) == {}
    schedule.store(PANE, FACTS, {101: "S"}, now=0.0)
    schedule.keep_only([])
    assert len(schedule) == 0


def test_a_reading_holds_only_while_its_agent_is_in_the_same_condition() -> None:
    schedule = TreeSchedule()
    schedule.store(PANE, FACTS, {101: "S"}, now=0.0)
    other = replace(PANE, pane_pid=200, pane_id="%2")
    schedule.store(other, ProcessFacts(kind="shell", agent_pid=None, commands=("bash",)), {}, now=0.0)
    candidates = schedule.candidates([PANE, other], 1.0, 300.0)
    assert probe_pids(candidates) == [101]
    assert still_holding(candidates, {101: "R"}).keys() == {100, 200}  # running or sleeping: alive
    for states in ({}, {101: "Z"}, {101: "T"}):  # gone, a zombie, stopped
        assert still_holding(candidates, states).keys() == {200}, states
    assert [condition(s) for s in (None, "X", "t", "D")] == ["gone", "gone", "stopped", "alive"]
    # Codex: a node launcher (the agent) runs the native TUI, of the same kind: stopping either counts
    schedule.store(PANE, replace(FACTS, kind="codex"), {101: "S", 102: "S"}, now=0.0)
    candidates = schedule.candidates([PANE], 1.0, 300.0)
    assert probe_pids(candidates) == [101, 102]
    assert still_holding(candidates, {101: "S", 102: "T"}) == {}
    assert still_holding(candidates, {101: "S", 102: "R"}).keys() == {100}


def idle_screen() -> str:
    return "\n".join(render(SimScreen(), 100, 30)) + "\n"


def working_screen(seconds: int) -> str:
    return "\n".join(render(SimScreen(phase="working", spinner_verb="Thinking", working_seconds=seconds,
                                      tokens=10), 100, 30)) + "\n"


@dataclass
class Pane:
    """Source and strategy of one pane whose screen and tmux facts the test sets; the process table
    is what the counting reader answers, the probe says the agent's state (absent: gone)."""

    pane: PaneInfo = PANE
    screen: str = field(default_factory=idle_screen)
    table: ProcessTable = field(default_factory=lambda: ProcessTable.from_processes([SHELL, AGENT]))
    agent_state: str | None = "S"
    states: dict[int, str] | None = None  # per pid, instead of agent_state for all
    name: str = LEGACY
    reads: list[list[int]] = field(default_factory=list)
    probes: list[list[int]] = field(default_factory=list)

    async def list_panes(self) -> list[PaneInfo]:
        return [self.pane]

    async def capture(self, panes: Sequence[PaneInfo], *, full: bool) -> CaptureResult:
        return CaptureResult(screens={p.pane_id: self.screen for p in panes})

    async def aclose(self) -> None:
        return None

    def read(self, roots: Sequence[int]) -> ProcessTable:
        self.reads.append(list(roots))
        return self.table

    def probe(self, pids: Sequence[int]) -> Mapping[int, str]:
        self.probes.append(list(pids))
        if self.states is not None:
            return {pid: self.states[pid] for pid in pids if pid in self.states}
        return {pid: self.agent_state for pid in pids if self.agent_state is not None}


def make_core(pane: Pane, stuck_after: float = 300.0) -> tuple[MonitorCore, list[float]]:
    now = [1000.0]
    core = MonitorCore(Settings(stuck_after=stuck_after, starting_after=1.0), pane, {LEGACY: pane},
                       assign_strategies=lambda sessions: {}, clock=lambda: now[0], read_processes=pane.read,
                       probe_processes=pane.probe)
    return core, now


async def cycles(core: MonitorCore, now: list[float], count: int, step: float = 2.0) -> None:
    for _ in range(count):
        now[0] += step
        await core.run_cycle()


def test_an_unchanged_tree_is_read_again_only_when_its_reading_is_old() -> None:
    async def scenario() -> None:
        pane = Pane()
        core, now = make_core(pane)
        await cycles(core, now, 10)  # 20 s: read at the first cycle, then when 10 s old
        assert pane.reads == [[100], [100]] and len(pane.probes) == 8
        assert core.tracker.records["team:0.0"].view.state is State.IDLE

    asyncio.run(scenario())


def test_an_agent_that_exits_under_a_script_is_seen_at_the_next_cycle() -> None:
    """The script's shell stays the foreground (tmux names the same command): the probe of the agent
    process finds it gone, so the tree is read again and the agent is crashed at once; while no agent
    runs there, the tree is read at every cycle (a script restarting it is seen at once)."""

    async def scenario() -> None:
        pane = Pane()
        core, now = make_core(pane)
        await cycles(core, now, 2)
        pane.table, pane.agent_state = ProcessTable.from_processes([SHELL]), None
        await cycles(core, now, 3)
        # at the first cycle, then at once when the probe found it gone, then at every cycle while it is gone
        assert pane.reads == [[100]] * 4
        assert core.tracker.records["team:0.0"].view.state is State.CRASHED

    asyncio.run(scenario())


def test_a_new_foreground_command_or_a_stopped_agent_has_the_tree_read_at_once() -> None:
    async def scenario() -> None:
        pane = Pane()
        core, now = make_core(pane)
        await cycles(core, now, 2)
        pane.pane = replace(PANE, current_command="vim")
        await cycles(core, now, 2)
        assert len(pane.reads) == 2
        pane.agent_state = "T"
        await cycles(core, now, 1)
        assert len(pane.reads) == 3

    asyncio.run(scenario())


def test_a_working_screen_frozen_for_a_quarter_of_the_threshold_has_its_tree_read_each_cycle() -> None:
    """The stuck check weighs the tools' CPU time: it must be read fresh from then on."""

    async def scenario() -> None:
        pane = Pane(screen=working_screen(1))
        core, now = make_core(pane, stuck_after=80.0)  # trees trusted 10 s; a quarter is 20 s
        await cycles(core, now, 5)
        assert core.tracker.records["team:0.0"].view.state is State.WORKING
        before = len(pane.reads)
        await cycles(core, now, 8)  # frozen from the first cycle: 26 s by the end
        assert len(pane.reads) - before >= 4

    asyncio.run(scenario())


def test_the_native_tui_under_a_launcher_is_probed_too() -> None:
    """Codex's node launcher sleeps on while its native TUI (the same kind) is stopped: the probe
    covers both, so the stop is seen at the next cycle."""

    async def scenario() -> None:
        launcher = ProcessInfo(pid=101, ppid=100, state="S", comm="node", argv=("node", "/usr/bin/codex"),
                               pgrp=100, tpgid=100)
        native = ProcessInfo(pid=102, ppid=101, state="S", comm="codex", argv=("/x/codex",), pgrp=100, tpgid=100)
        pane = Pane(table=ProcessTable.from_processes([SHELL, launcher, native]), states={101: "S", 102: "S"})
        core, now = make_core(pane)
        await cycles(core, now, 2)
        assert core.tracker.records["team:0.0"].facts.kind == "codex" and len(pane.reads) == 1
        assert pane.states is not None
        pane.states[102] = "T"
        pane.table = ProcessTable.from_processes([SHELL, launcher, replace(native, state="T")])
        await cycles(core, now, 1)
        assert len(pane.reads) == 2 and core.tracker.records["team:0.0"].facts.stopped

    asyncio.run(scenario())


def test_without_a_probe_every_tree_is_read_at_every_cycle() -> None:
    async def scenario() -> None:
        pane = Pane()
        now = [1000.0]
        core = MonitorCore(Settings(), pane, {LEGACY: pane}, assign_strategies=lambda sessions: {},
                           clock=lambda: now[0], read_processes=pane.read)
        await cycles(core, now, 4)
        assert pane.reads == [[100]] * 4 and pane.probes == []

    asyncio.run(scenario())
