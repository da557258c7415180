"""Which panes' process trees a cycle reads, and the facts it keeps for the others.

A tree costs two /proc reads per process, and one more per thread of a multi-threaded agent (Node,
Rust and Go agents run a dozen): reading every tree at every cycle was a fifth of the daemon's CPU
at 100 agents. Most trees say the same thing cycle after cycle. A pane's last facts are kept while
tmux names the same foreground command for it (``pane_current_command``: an agent started in a shell,
or one that exits or is stopped with ctrl-z in an interactive shell, changes it) and one read of the
``stat`` of each of the agent program's own processes finds it in the same condition (alive, stopped,
or gone: this catches an agent run by a script, whose foreground stays the script's, and a signal
from elsewhere). The tree is read again when:

- the pane is new, or its pid, its foreground command or its dead flag changed;
- one of the agent program's own processes is gone, or stopped, or running again;
- the last reading is :data:`TREE_MAX_AGE` seconds old, or ``stuck_after / SAMPLES_PER_WINDOW`` when
  that is shorter: a tool started below the agent, the tools' CPU time (a stale reading lags by at
  most one tool-CPU sample, :mod:`tmux_orc.detect.toolcpu`), an agent started by a script;
- the core asks for it: an agent whose program is not running (crashed, or restarting) is read at
  every cycle, and so is a working agent whose screen has been frozen for a quarter of the stuck
  threshold (it is about to be judged on its tools' CPU time).

A pane with no agent (a shell, an editor) keeps its reading the longest: an agent started there by
a script, not from the shell's prompt, is found up to :data:`TREE_MAX_AGE` seconds later.

:class:`TreeSchedule` is the bookkeeping (pure); :class:`PaneTrees` reads through the core's ports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tmux_orc.core.ports import ProcessProbe, ProcessReader
from tmux_orc.core.tracker import AgentRecord
from tmux_orc.detect.process import GONE_STATES, STOPPED_STATES, Patterns, own_processes
from tmux_orc.detect.toolcpu import SAMPLES_PER_WINDOW
from tmux_orc.model import PaneInfo, ProcessFacts, State
from tmux_orc.procfs import ProcessTable

TREE_MAX_AGE = 10.0  # seconds a pane's tree is trusted while nothing above says it changed
FROZEN_CHECKED = frozenset({State.WORKING, State.STUCK})  # states whose frozen screen weighs the tools' CPU


def max_age(stuck_after: float) -> float:
    """Seconds a pane's tree is trusted: :data:`TREE_MAX_AGE`, or one tool-CPU sample's spacing."""
    return min(TREE_MAX_AGE, stuck_after / SAMPLES_PER_WINDOW)


def condition(state: str | None) -> str:
    """``gone``, ``stopped`` or ``alive``: what a process's state letter (None: no such process) says."""
    if state is None or state in GONE_STATES:
        return "gone"
    return "stopped" if state in STOPPED_STATES else "alive"


@dataclass(frozen=True, slots=True)
class Reading:
    """One reading of a pane's tree: what it gave, and what must stay the same for it to hold."""

    pane_id: str
    command: str
    dead: bool
    at: float
    facts: ProcessFacts
    agent: tuple[tuple[int, str], ...]  # the agent's own processes and their condition() at the reading


class TreeSchedule:
    """Per pane (by its pid): the last reading of its tree, and whether it may still be used."""

    def __init__(self) -> None:
        self._readings: dict[int, Reading] = {}

    def candidates(self, panes: Sequence[PaneInfo], now: float, stuck_after: float) -> dict[int, Reading]:
        """The readings that may be kept this cycle, by pane pid, before their agents are probed."""
        limit = max_age(stuck_after)
        out: dict[int, Reading] = {}
        for pane in panes:
            last = self._readings.get(pane.pane_pid)
            if (
                last is not None
                and last.pane_id == pane.pane_id
                and last.command == pane.current_command
                and last.dead == pane.dead
                and 0.0 <= now - last.at < limit
            ):
                out[pane.pane_pid] = last
        return out

    def store(self, pane: PaneInfo, facts: ProcessFacts, agent: Mapping[int, str | None], now: float) -> None:
        """The facts a reading of the pane's tree gave at ``now``; ``agent``: the state letter of each of
        the agent program's own processes in that reading (:func:`~tmux_orc.detect.process.own_processes`)."""
        conditions = tuple((pid, condition(state)) for pid, state in agent.items())
        self._readings[pane.pane_pid] = Reading(pane.pane_id, pane.current_command, pane.dead, now, facts, conditions)

    def expire(self, pane_pid: int) -> None:
        """Read this pane's tree at the next cycle, however recent its reading."""
        self._readings.pop(pane_pid, None)

    def keep_only(self, pane_pids: Iterable[int]) -> None:
        """Forget the panes that are gone."""
        present = set(pane_pids)
        for pid in [pid for pid in self._readings if pid not in present]:
            del self._readings[pid]

    def __len__(self) -> int:
        return len(self._readings)


def probe_pids(candidates: Mapping[int, Reading]) -> list[int]:
    """The agent processes to look at before keeping these readings."""
    return [pid for r in candidates.values() for pid, _condition in r.agent]


def still_holding(candidates: Mapping[int, Reading], states: Mapping[int, str]) -> dict[int, ProcessFacts]:
    """The facts of the readings whose agent processes are each in the condition they were in
    (``states``: the probed processes' state letters, a missing pid being gone), by pane pid."""
    return {
        pane_pid: r.facts
        for pane_pid, r in candidates.items()
        if all(condition(states.get(pid)) == was for pid, was in r.agent)
    }


class PaneTrees:
    """The process trees of a cycle: read through ``read_processes`` those that may have changed, keep
    the facts of the others. Without ``probe_processes`` every tree is read at every cycle."""

    def __init__(self, read_processes: ProcessReader, probe_processes: ProcessProbe | None = None) -> None:
        self.read_processes = read_processes
        self.probe_processes = probe_processes
        self.schedule = TreeSchedule()

    def candidates(self, panes: Sequence[PaneInfo], records: Iterable[AgentRecord], now: float,
                   stuck_after: float) -> dict[int, Reading]:
        """On the loop, before :meth:`read`: the earlier readings this cycle may keep. Of the agents
        (``records``), these have their trees read at every cycle: one whose program is not running
        (crashed, or restarting: a restart is seen at once), and a working one whose screen has been
        frozen for a quarter of the stuck threshold (the stuck check is about to weigh its tools' CPU)."""
        if self.probe_processes is None:
            return {}
        for rec in records:
            obs = rec.observation
            if rec.facts.agent_pid is None or (
                obs is not None and obs.verdict.state in FROZEN_CHECKED and now - obs.unchanged_since >= stuck_after / 4
            ):
                self.schedule.expire(rec.pane.pane_pid)
        return self.schedule.candidates(panes, now, stuck_after)

    def read(self, panes: Sequence[PaneInfo],
             candidates: Mapping[int, Reading]) -> tuple[ProcessTable, dict[int, ProcessFacts]]:
        """In a worker thread: the trees of the panes whose earlier facts do not hold, and the facts that
        do, by pane pid. Raises OSError as the reader does."""
        kept: dict[int, ProcessFacts] = {}
        if candidates and self.probe_processes is not None:
            kept = still_holding(candidates, self.probe_processes(probe_pids(candidates)))
        roots = [p.pane_pid for p in panes if p.pane_pid not in kept]
        return (self.read_processes(roots) if roots else ProcessTable.from_processes([])), kept

    def store(self, pane: PaneInfo, facts: ProcessFacts, table: ProcessTable, patterns: Patterns, now: float) -> None:
        """The facts this cycle's reading gave for the pane (nothing is kept when its process was not
        in the reading: just born, or just gone)."""
        if self.probe_processes is None or not (pane.dead or table.get(pane.pane_pid) is not None):
            return
        own = {pid: info.state if (info := table.get(pid)) is not None else None
               for pid in own_processes(pane, table, facts, patterns)}
        self.schedule.store(pane, facts, own, now)

    def keep_only(self, pane_pids: Iterable[int]) -> None:
        """Forget the panes that are gone."""
        self.schedule.keep_only(pane_pids)
