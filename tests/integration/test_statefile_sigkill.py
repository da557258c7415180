"""A writer killed with SIGKILL at any moment never leaves a state file that fails to load."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest

from tmux_orc.core.statefile import PersistedAgent, PersistedState, StateStore
from tmux_orc.model import State

ROUNDS = 100


def _writer(directory: Path, start: int) -> None:
    """Child process: save ever-changing states of varying size as fast as possible."""
    store = StateStore(directory)
    n = start
    while True:
        n += 1
        agents = {f"s:{i}.0": PersistedAgent(state=State.WORKING, state_since=float(n),
                                             detail="x" * (n % 700)) for i in range(n % 40)}
        store.save(PersistedState(alert_cooldowns={"counter": float(n)}, agents=agents))


@pytest.mark.timeout(60)
def test_state_always_loads_after_sigkill(tmp_path: Path) -> None:
    rng = random.Random(1234)
    directory = tmp_path / "state"
    last_seen = 0.0
    started = time.monotonic()
    for round_no in range(ROUNDS):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            try:
                _writer(directory, round_no * 1_000_000)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.001, 0.04))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        state = StateStore(directory).load()  # must neither raise nor find a corrupt file
        counter = state.alert_cooldowns.get("counter", 0.0)
        assert counter >= last_seen
        last_seen = counter
        assert not [p for p in directory.iterdir() if "corrupt" in p.name]
    assert last_seen > 0
    assert sorted(p.name for p in directory.iterdir()) == ["state.json"]
    assert time.monotonic() - started < 30
