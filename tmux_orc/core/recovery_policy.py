"""When to bring a crashed agent back: the decision half of the PMRecoveryManager (no I/O).

Automatic recovery is for PMs only (and only while ``auto_recover_pm`` is on): a crash must be seen on
``confirmations`` consecutive observations, the previous attempt gets ``grace`` seconds to come up,
attempts after the first wait ``cooldown * backoff_base ** (n - 2)`` seconds, and after
``max_attempts`` the policy gives up once (crash loop) until the agent has been healthy for a while
or an operator asks for a recovery.

A manual request (D-Bus ``Recover``) may target any agent and skips confirmation, grace, backoff and
the attempt limit, but is refused when there is nothing to recover: the agent is not ``crashed``
(a ``working``/``idle``/``stuck`` agent still has its program running; restarting it would start a
second agent next to it), it is ``rate_limited`` (a new agent would hit the same limit), or a
recovery of it is already in progress.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Protocol

from tmux_orc.model import HEALTHY_STATES, AgentView, Role, State

HISTORY_KEPT = 20
# Recovery records taken from a state file at most, the most recently attempted first (the file is input).
MAX_RESTORED = 1000


def recovery_key(agent: AgentView) -> str:
    """The memory key of an agent: for a PM its session and window name (a respawned PM lands in a new
    window of the same name, at another index, and its crash loop must still be counted; two PM windows
    of one session count apart), the agent id otherwise. ``record_*`` take this key."""
    return f"pm@{agent.session}/{agent.window}" if agent.role == Role.PM else agent.id


class Action(StrEnum):
    """What a :class:`Decision` tells the caller to do."""

    WAIT = "wait"  # not now; ``retry_at`` says when to look again, if known
    RECOVER = "recover"  # spawn the agent again; ``attempt`` is its number (1-based)
    GIVE_UP = "give_up"  # attempts exhausted: alert once, then stay quiet
    SKIP = "skip"  # nothing for automatic recovery to do with this agent
    REFUSE = "refuse"  # a manual request that must not be carried out; ``reason`` says why


class Refusal(StrEnum):
    """Why a manual request was refused (the D-Bus adapter maps these to error names)."""

    NOT_CRASHED = "not_crashed"  # -> InvalidArgument / Failed
    RATE_LIMITED = "rate_limited"  # -> Failed
    BUSY = "busy"  # a recovery of that agent is running -> Busy


@dataclass(frozen=True, slots=True)
class Decision:
    """One recovery decision: the action, a reason for people, and what the action needs to know."""

    action: Action
    reason: str
    attempt: int = 0
    retry_at: float | None = None
    refusal: Refusal | None = None


@dataclass(slots=True)
class RecoveryRecord:
    """What the policy remembers about one target (persisted in the state file)."""

    attempts: int = 0
    last_attempt: float | None = None
    gave_up: bool = False
    history: list[tuple[float, str]] = field(default_factory=list)  # (time, "started"/"ok"/"failed: ...")
    in_progress: bool = False


class RecordLike(Protocol):
    """What :meth:`RecoveryPolicy.restore` reads of a persisted record."""

    @property
    def attempts(self) -> int:
        """Attempts made since the counter last started over."""
        ...

    @property
    def last_attempt(self) -> float | None:
        """When the last attempt started (seconds since the epoch), None before the first."""
        ...

    @property
    def gave_up(self) -> bool:
        """The policy gave up on this target (crash loop)."""
        ...

    @property
    def history(self) -> list[tuple[float, str]]:
        """The latest ``(time, outcome)`` entries, oldest first."""
        ...


class RecoveryPolicy:
    """Pure recovery decisions plus the per-target memory they need. Time always comes in as ``now``."""

    def __init__(
        self,
        confirmations: int = 3,
        grace: float = 120.0,
        cooldown: float = 300.0,
        max_attempts: int = 3,
        backoff_base: float = 2.0,
        *,
        backoff_max: float = 3600.0,
        auto_recover_pm: bool = True,
        healthy_reset_after: float | None = None,
    ) -> None:
        if confirmations < 1 or max_attempts < 1 or backoff_base < 1:
            raise ValueError("confirmations and max_attempts must be >= 1, backoff_base >= 1")
        self.confirmations = confirmations
        self.grace = grace
        self.cooldown = cooldown
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.auto_recover_pm = auto_recover_pm
        # How long an agent must stay healthy before its attempt counter starts over.
        if healthy_reset_after is None:
            healthy_reset_after = max(grace, cooldown)
        self.healthy_reset_after = healthy_reset_after
        self._records: dict[str, RecoveryRecord] = {}

    # --- decisions ---------------------------------------------------------------------------------
    def decide(self, agent: AgentView, crash_streak: int, now: float) -> Decision:
        """Automatic recovery: what to do about ``agent`` seen crashed ``crash_streak`` times in a row.

        A ``GIVE_UP`` is returned once: the policy records it, later calls say ``SKIP``.
        """
        if agent.role != Role.PM:
            return Decision(Action.SKIP, "only PM agents are recovered automatically")
        if not self.auto_recover_pm:
            return Decision(Action.SKIP, "automatic PM recovery is off (auto_recover_pm)")
        if agent.state == State.RATE_LIMITED:
            return Decision(Action.WAIT, f"agent is rate limited {agent.detail}".strip())
        if agent.state != State.CRASHED:
            return Decision(Action.SKIP, f"agent is {agent.state}, not crashed")
        key = recovery_key(agent)
        rec = self._records.get(key, RecoveryRecord())
        if rec.gave_up:
            return Decision(Action.SKIP, f"gave up after {rec.attempts} attempts (crash loop)")
        if crash_streak < self.confirmations:
            return Decision(Action.WAIT, f"crash not confirmed yet ({crash_streak}/{self.confirmations})")
        if rec.in_progress:
            return Decision(Action.WAIT, "a recovery is in progress")
        if rec.last_attempt is not None and now < rec.last_attempt + self.grace:
            return Decision(Action.WAIT, "grace period after the last recovery",
                            retry_at=rec.last_attempt + self.grace)
        if rec.attempts >= self.max_attempts:
            self._records[key] = replace(rec, gave_up=True, history=_append(rec.history, now, "gave up"))
            return Decision(Action.GIVE_UP, attempt=rec.attempts,
                            reason=f"still crashed after {rec.attempts} recovery attempts (crash loop)")
        if rec.last_attempt is not None and rec.attempts >= 1:
            ready_at = rec.last_attempt + self.backoff(rec.attempts + 1)
            if now < ready_at:
                return Decision(Action.WAIT, f"backing off before attempt {rec.attempts + 1}",
                                retry_at=ready_at)
        return Decision(Action.RECOVER, f"recovery attempt {rec.attempts + 1} of {self.max_attempts}",
                        attempt=rec.attempts + 1)

    def decide_manual(self, agent: AgentView, now: float) -> Decision:
        """An operator's ``Recover`` request for any agent: carried out unless there is nothing to recover."""
        rec = self._records.get(recovery_key(agent), RecoveryRecord())
        if rec.in_progress:
            return Decision(Action.REFUSE, f"a recovery of {agent.target} is already in progress",
                            refusal=Refusal.BUSY)
        if agent.state == State.RATE_LIMITED:
            detail = f" ({agent.detail})" if agent.detail else ""
            return Decision(Action.REFUSE, f"{agent.target} is rate limited{detail}; a new agent would hit "
                            "the same limit", refusal=Refusal.RATE_LIMITED)
        if agent.state != State.CRASHED:
            return Decision(Action.REFUSE, f"{agent.target} is {agent.state}, not crashed: its program is "
                            "still running, so there is nothing to recover", refusal=Refusal.NOT_CRASHED)
        return Decision(Action.RECOVER, "recovery requested by an operator", attempt=rec.attempts + 1)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after attempt ``attempt - 1`` before attempt ``attempt`` (>= 2)."""
        if attempt <= 1:
            return 0.0
        return float(min(self.cooldown * self.backoff_base ** (attempt - 2), self.backoff_max))

    # --- bookkeeping -------------------------------------------------------------------------------
    def record_attempt(self, target: str, now: float) -> int:
        """A recovery of ``target`` starts now; returns its attempt number."""
        rec = self._records.get(target, RecoveryRecord())
        attempts = rec.attempts + 1
        self._records[target] = RecoveryRecord(
            attempts=attempts, last_attempt=now, gave_up=False, in_progress=True,
            history=_append(rec.history, now, f"attempt {attempts} started"),
        )
        return attempts

    def record_outcome(self, target: str, success: bool, now: float, detail: str = "") -> None:
        """The spawn finished (``success`` = the agent program is back). The counter is kept until
        the agent has stayed healthy for ``healthy_reset_after`` (see :meth:`note_state`)."""
        rec = self._records.get(target, RecoveryRecord())
        outcome = "ok" if success else "failed"
        if detail:
            outcome = f"{outcome}: {detail}"[:200]
        self._records[target] = replace(rec, in_progress=False, history=_append(rec.history, now, outcome))

    def note_state(self, agent: AgentView, now: float) -> bool:
        """Feed every cycle's view; resets the target once it has been healthy long enough. True if reset."""
        key = recovery_key(agent)
        rec = self._records.get(key)
        if rec is None or rec.in_progress or agent.state not in HEALTHY_STATES:
            return False
        if now - agent.state_since >= self.healthy_reset_after:
            self.reset(key)
            return True
        return False

    def reset(self, target: str) -> None:
        """Forget everything about ``target`` (a :func:`recovery_key`)."""
        self._records.pop(target, None)

    def forget_missing(self, present_keys: set[str]) -> None:
        """Drop memory of keys (see :func:`recovery_key`) no longer present, unless a recovery runs."""
        for key in [k for k, r in self._records.items() if k not in present_keys and not r.in_progress]:
            del self._records[key]

    def record(self, target: str) -> RecoveryRecord | None:
        """A copy of what the policy remembers about ``target`` (a :func:`recovery_key`), None if nothing."""
        rec = self._records.get(target)
        return None if rec is None else replace(rec, history=list(rec.history))

    # --- persistence -------------------------------------------------------------------------------
    def memory(self) -> dict[str, RecoveryRecord]:
        """Copies of every record, for the state file."""
        return {t: replace(r, history=list(r.history)) for t, r in self._records.items()}

    def restore(self, memory: Mapping[str, RecordLike]) -> None:
        """Load persisted records. A recovery that was in progress at shutdown counts as an attempt."""
        newest = sorted(memory.items(), key=lambda item: item[1].last_attempt or 0.0,
                        reverse=True)[:MAX_RESTORED]
        self._records = {
            target: RecoveryRecord(
                attempts=r.attempts, last_attempt=r.last_attempt, gave_up=r.gave_up,
                history=list(r.history)[-HISTORY_KEPT:], in_progress=False,
            )
            for target, r in newest
        }


def _append(history: list[tuple[float, str]], now: float, outcome: str) -> list[tuple[float, str]]:
    return [*history, (now, outcome)][-HISTORY_KEPT:]
