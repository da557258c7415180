"""Ties the state file to the components that remember things: tracker, alerts, recovery, rollout.

Loaded once at start (before the first cycle) and saved after every cycle; the store writes only when
something changed, atomically.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from tmux_orc.core.events import Event, RolloutStageChanged
from tmux_orc.core.monitor import CycleReport
from tmux_orc.core.recovery_policy import RecoveryPolicy
from tmux_orc.core.rollout import RolloutManager
from tmux_orc.core.statefile import PersistedAgent, PersistedRollout, PersistedState, StateStore
from tmux_orc.core.tracker import Remembered, StateTracker

log = logging.getLogger(__name__)

ACTIVITY_RESOLUTION = 60.0  # seconds: last_activity is remembered to the minute
CooldownMemory = tuple[Callable[[], dict[str, float]], Callable[[dict[str, float]], None]]


class Persistence:
    def __init__(
        self,
        store: StateStore,
        tracker: StateTracker,
        policy: RecoveryPolicy,
        rollout: RolloutManager,
        cooldowns: CooldownMemory | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.tracker = tracker
        self.policy = policy
        self.rollout = rollout
        self.cooldowns = cooldowns
        self.clock = clock
        self.operator_set = False
        self.saves_failed = 0
        self.loaded = False  # nothing is saved before the state was loaded
        self._rollout_seen: tuple[str, bool] = ("", False)
        self._rollout_at = 0.0

    def load(self) -> None:
        """Read the state file (once, after the bus name is ours: a second instance never touches it).

        Raises StateRefused / OSError when the state directory cannot be used."""
        state = self.store.load()
        self.loaded = True
        self.tracker.restore({
            agent_id: Remembered(a.state, a.state_since, a.detail, a.last_activity)
            for agent_id, a in state.agents.items()
        })
        self.policy.restore(state.recovery)
        if self.cooldowns is not None:
            self.cooldowns[1](dict(state.alert_cooldowns))
        if state.rollout is not None:
            self.rollout.restore(state.rollout.stage, operator_set=state.rollout.operator_set,
                                 frozen=state.rollout.frozen)
            self.operator_set = state.rollout.operator_set
            self._rollout_seen = (str(state.rollout.stage), state.rollout.frozen)
            self._rollout_at = state.rollout.updated_at
        log.info("state loaded from %s: %d agents, %d recovery records, rollout %s",
                 self.store.path, len(state.agents), len(state.recovery), self.rollout.stage)

    def snapshot(self) -> PersistedState:
        seen = (str(self.rollout.stage), self.rollout.frozen)
        if seen != self._rollout_seen:
            self._rollout_seen, self._rollout_at = seen, self.clock()
        views = {v.id: v for v in self.tracker.views()}
        agents = {
            agent_id: PersistedAgent(
                state=r.state, state_since=r.state_since, detail=r.detail,
                # coarse, so that output alone does not rewrite the file every cycle
                last_activity=r.last_activity - r.last_activity % ACTIVITY_RESOLUTION,
                role=views[agent_id].role if agent_id in views else PersistedAgent.model_fields["role"].default,
                kind=views[agent_id].kind if agent_id in views else PersistedAgent.model_fields["kind"].default,
                pane_id=views[agent_id].pane_id if agent_id in views else "",
            )
            for agent_id, r in self.tracker.export().items()
        }
        return PersistedState(
            saved_at=self.clock(),
            agents=agents,
            alert_cooldowns=self.cooldowns[0]() if self.cooldowns is not None else {},
            recovery=self.policy.memory(),
            rollout=PersistedRollout(stage=self.rollout.stage, operator_set=self.operator_set,
                                     frozen=self.rollout.frozen, updated_at=self._rollout_at),
        )

    def save(self) -> None:
        if self.loaded:
            self._write(self.snapshot())

    def _write(self, snapshot: PersistedState) -> None:
        try:
            self.store.save(snapshot)
        except OSError as exc:
            self.saves_failed += 1
            log.error("cannot save state to %s: %s", self.store.path, exc)

    def on_event(self, event: Event) -> None:
        """A rollout stage change is saved at once; an operator's choice is remembered as such."""
        if isinstance(event, RolloutStageChanged) and self.loaded:
            self.operator_set = event.reason == "set by operator"
            self.save()

    async def on_cycle(self, report: CycleReport) -> None:
        if not self.loaded:
            return
        # The snapshot is taken on the loop (it reads live state); the write (fsync and all) runs off it.
        await asyncio.to_thread(self._write, self.snapshot())
