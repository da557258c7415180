"""After each cycle the state is saved only when it changed: an unchanged state costs a comparison of
plain values (no snapshot, no thread), a changed one is written, a failed write is tried again."""

from __future__ import annotations

import asyncio
import errno
from pathlib import Path

from tmux_orc.core.persistence import Persistence
from tmux_orc.core.recovery_policy import RecoveryPolicy
from tmux_orc.core.report import CycleReport
from tmux_orc.core.rollout import RolloutManager
from tmux_orc.core.statefile import PersistedState, StateStore
from tmux_orc.core.tracker import Remembered, StateTracker
from tmux_orc.model import State

NOW = 1_800_000_000.0


class CountingStore(StateStore):
    """A real store that counts what it is handed, and can be made to fail."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.handed: list[PersistedState] = []
        self.failing = False

    def save(self, state: PersistedState) -> None:
        self.handed.append(state)
        if self.failing:
            raise OSError(errno.ENOSPC, "No space left on device")
        super().save(state)


def test_the_state_is_handed_to_the_store_only_when_it_changed(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = [NOW]
        store = CountingStore(tmp_path / "s")
        tracker = StateTracker()
        persistence = Persistence(store, tracker, RecoveryPolicy(), RolloutManager(), clock=lambda: clock[0])
        persistence.load()
        tracker.restore({"a:0.0": Remembered(State.IDLE, NOW - 5, "", NOW - 5)})
        for _ in range(5):
            await persistence.on_cycle(CycleReport(started=clock[0]))
            clock[0] += 2.0
        assert len(store.handed) == 1
        tracker.restore({"a:0.0": Remembered(State.WAITING_INPUT, clock[0], "Allow?", clock[0])})
        await persistence.on_cycle(CycleReport(started=clock[0]))
        assert len(store.handed) == 2 and store.handed[-1].agents["a:0.0"].state is State.WAITING_INPUT
        store.failing = True
        tracker.restore({"a:0.0": Remembered(State.IDLE, clock[0], "", clock[0])})
        await persistence.on_cycle(CycleReport(started=clock[0]))
        store.failing = False
        await persistence.on_cycle(CycleReport(started=clock[0]))  # the failed write is tried again
        assert len(store.handed) == 4
        assert StateStore(tmp_path / "s").load().agents["a:0.0"].state is State.IDLE
        await persistence.on_cycle(CycleReport(started=clock[0]))
        assert len(store.handed) == 4

    asyncio.run(scenario())
