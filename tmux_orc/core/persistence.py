"""Ties the state file to the components that remember things: tracker, alerts, recovery, rollout.

Loaded once at start (before the first cycle) and saved after every cycle; the store writes only when
something changed, atomically. At most :data:`MAX_REMEMBERED` agents are taken from the file (the most
recent); agents remembered but not seen are forgotten once their newest time is older than
:data:`RETENTION` (checked :data:`PRUNE_FIRST` seconds after load, when the agents still there have been
seen, then every :data:`PRUNE_EVERY` seconds). A write that fails (a full or read-only disk) is logged once,
then at most every :data:`ERROR_LOG_EVERY` seconds; the state stays in memory and is written when the
disk takes it again.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable

from tmux_orc.core.events import Event, RolloutStageChanged
from tmux_orc.core.monitor import CycleReport
from tmux_orc.core.recovery_policy import RecoveryPolicy
from tmux_orc.core.rollout import RolloutCause, RolloutManager
from tmux_orc.core.statefile import PersistedAgent, PersistedRollout, PersistedState, StateRefused, StateStore
from tmux_orc.core.tracker import Remembered, StateTracker
from tmux_orc.model import Role, State

log = logging.getLogger(__name__)

ACTIVITY_RESOLUTION = 60.0  # seconds: last_activity is remembered to the minute
RETENTION = 7 * 86400.0  # seconds: an agent not seen, with nothing newer than this, is forgotten
MAX_REMEMBERED = 1000  # agents remembered without being seen (the most recent ones)
PRUNE_FIRST = 60.0  # seconds after load before the first pruning (the live agents are seen by then)
PRUNE_EVERY = 600.0  # seconds between prunings of the agents remembered but not seen
ERROR_LOG_EVERY = 600.0  # seconds between two logs of the same failing write
AgentRow = tuple[State, float, str, float, Role, str, str]  # state, since, detail, activity, role, kind, pane
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
        self._pruned_at = 0.0
        self._failing_since: float | None = None  # first failure of the current run of failed writes
        self._failure_logged_at = 0.0
        self._failures_unlogged = 0
        self._saved_key: tuple[object, ...] | None = None  # what the last successful save held

    def load(self) -> None:
        """Read the state file (once, after the bus name is ours: a second instance never touches it).

        Raises StateRefused / OSError when the state directory cannot be used."""
        state = self.store.load()
        self.loaded = True
        remembered = {
            agent_id: Remembered(a.state, a.state_since, a.detail, a.last_activity)
            for agent_id, a in state.agents.items()
        }
        kept = self._fresh(remembered, set(), cutoff=None)
        if len(kept) < len(remembered):
            log.info("forgot %d agents of the state file: only the %d most recent are kept",
                     len(remembered) - len(kept), MAX_REMEMBERED)
        self.tracker.restore(kept)
        self._pruned_at = self.clock() - PRUNE_EVERY + PRUNE_FIRST
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

    def _fresh(self, remembered: dict[str, Remembered], seen: set[str],
               cutoff: float | None) -> dict[str, Remembered]:
        """The remembered agents to keep: every one ``seen``; of the others, the most recent
        :data:`MAX_REMEMBERED`, and of those only the ones with a time at or after ``cutoff``."""
        unseen = sorted(
            ((max(r.state_since, r.last_activity), agent_id) for agent_id, r in remembered.items()
             if agent_id not in seen),
            reverse=True,
        )
        keep = {agent_id for newest, agent_id in unseen[:MAX_REMEMBERED] if cutoff is None or newest >= cutoff}
        return {agent_id: r for agent_id, r in remembered.items() if agent_id in seen or agent_id in keep}

    def prune(self) -> int:
        """Forget the agents remembered but not seen for longer than the retention; how many went."""
        seen = set(self.tracker.records)
        remembered = {k: r for k, r in self.tracker.export().items() if k not in seen}
        kept = self._fresh(remembered, set(), cutoff=self.clock() - RETENTION)
        self._pruned_at = self.clock()
        if len(kept) < len(remembered):
            self.tracker.restore(kept)
            log.info("forgot %d agents not seen for %.0f days", len(remembered) - len(kept), RETENTION / 86400)
        return len(remembered) - len(kept)

    def _agent_rows(self, now: float) -> dict[str, AgentRow]:
        """What the state file holds of each agent, as plain values (cheap to compare cycle after cycle)."""
        records = self.tracker.records
        default_role = PersistedAgent.model_fields["role"].default
        default_kind = PersistedAgent.model_fields["kind"].default
        rows = {}
        for agent_id, r in self.tracker.export().items():
            rec = records.get(agent_id)
            view = rec.view if rec is not None else None
            rows[agent_id] = (
                r.state, _finite(r.state_since, now), r.detail,
                # coarse, so that output alone does not rewrite the file every cycle
                _finite(r.last_activity - r.last_activity % ACTIVITY_RESOLUTION, 0.0),
                view.role if view is not None else default_role,
                view.kind if view is not None else default_kind,
                view.pane_id if view is not None else "",
            )
        return rows

    def _key(self, rows: dict[str, AgentRow]) -> tuple[object, ...]:
        """Everything the state file would say but its time: equal keys, equal files."""
        cooldowns = self.cooldowns[0]() if self.cooldowns is not None else {}
        rollout = (self.rollout.stage, self.rollout.frozen, self.operator_set, self._rollout_at)
        return rows, cooldowns, self.policy.memory(), rollout

    def snapshot(self, rows: dict[str, AgentRow] | None = None) -> PersistedState:
        """The state to save now (``rows``: :meth:`_agent_rows`, when already taken)."""
        now = self.clock()
        self._note_rollout(now)
        rows = self._agent_rows(now) if rows is None else rows
        agents = {
            agent_id: PersistedAgent(state=state, state_since=since, detail=detail, last_activity=activity,
                                     role=role, kind=kind, pane_id=pane_id)
            for agent_id, (state, since, detail, activity, role, kind, pane_id) in rows.items()
        }
        cooldowns = self.cooldowns[0]() if self.cooldowns is not None else {}
        return PersistedState(
            saved_at=now,
            agents=agents,
            alert_cooldowns={k: v for k, v in cooldowns.items() if math.isfinite(v)},
            recovery=self.policy.memory(),
            rollout=PersistedRollout(stage=self.rollout.stage, operator_set=self.operator_set,
                                     frozen=self.rollout.frozen, updated_at=_finite(self._rollout_at, 0.0)),
        )

    def _note_rollout(self, now: float) -> None:
        seen = (str(self.rollout.stage), self.rollout.frozen)
        if seen != self._rollout_seen:
            self._rollout_seen, self._rollout_at = seen, now

    def save(self) -> None:
        """Save the state now (the next cycle compares its state with the file's again)."""
        if self.loaded:
            self._write(self.snapshot())
            self._saved_key = None

    def _write(self, snapshot: PersistedState) -> bool:
        """Hand the snapshot to the store; False when the write failed (logged as it should be)."""
        try:
            self.store.save(snapshot)
        except (OSError, StateRefused) as exc:
            self._write_failed(exc)
            return False
        if self._failing_since is not None:
            log.warning("state saved to %s again, after %d failed writes", self.store.path,
                        self._failures_unlogged + 1)
            self._failing_since = None
            self._failures_unlogged = 0
        return True

    def _write_failed(self, exc: BaseException) -> None:
        """Log the first failure of a run, then at most every ERROR_LOG_EVERY seconds (with a count)."""
        self.saves_failed += 1
        now = self.clock()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if self._failing_since is None:
            self._failing_since = self._failure_logged_at = now
            self._failures_unlogged = 0
            log.error("cannot save state to %s: %s; keeping it in memory and retrying each cycle (logged "
                      "again at most every %.0f min)", self.store.path, reason, ERROR_LOG_EVERY / 60)
        elif now - self._failure_logged_at >= ERROR_LOG_EVERY:
            log.error("still cannot save state to %s: %s (%d more failed writes since the last log)",
                      self.store.path, reason, self._failures_unlogged + 1)
            self._failure_logged_at = now
            self._failures_unlogged = 0
        else:
            self._failures_unlogged += 1

    def on_event(self, event: Event) -> None:
        """A rollout stage change is saved at once; an operator's choice is remembered as such."""
        if isinstance(event, RolloutStageChanged) and self.loaded:
            self.operator_set = event.cause is RolloutCause.OPERATOR
            self.save()

    async def on_cycle(self, report: CycleReport) -> None:
        if not self.loaded:
            return
        if self.clock() - self._pruned_at >= PRUNE_EVERY:
            self.prune()
        # A state equal to the last one saved costs a comparison of plain values, nothing more. Else the
        # snapshot is taken on the loop (it reads live state) and the write (fsync and all) runs off it.
        now = self.clock()
        self._note_rollout(now)
        rows = self._agent_rows(now)
        key = self._key(rows)
        if key == self._saved_key:
            return
        saved = await asyncio.to_thread(self._write, self.snapshot(rows))
        self._saved_key = key if saved else None


def _finite(value: float, default: float) -> float:
    """``value`` when it is a finite number, else ``default`` (the state file holds finite numbers only)."""
    return value if math.isfinite(value) else default
