"""RecoveryPolicy on a fake clock: confirmation, grace, backoff, give-up once, manual requests."""

from __future__ import annotations

import pytest

from tmux_orc.core.recovery_policy import Action, RecoveryPolicy, Refusal, recovery_key
from tmux_orc.core.statefile import PersistedState
from tmux_orc.model import AgentView, Kind, Role, State

T0 = 5_000.0


def view(state: State = State.CRASHED, role: Role = Role.PM, since: float = T0, index: int = 0,
         window: str = "Claude-pm", detail: str = "") -> AgentView:
    target = f"proj:{index}.0"
    return AgentView(id=target, target=target, session="proj", window=window, pane_id="%1", role=role,
                     kind=Kind.CLAUDE, state=state, state_since=since, detail=detail)


def policy(**kw: float) -> RecoveryPolicy:
    params: dict[str, float] = {"confirmations": 3, "grace": 120, "cooldown": 300, "max_attempts": 3,
                                "backoff_base": 2} | kw
    return RecoveryPolicy(int(params["confirmations"]), params["grace"], params["cooldown"],
                          int(params["max_attempts"]), params["backoff_base"])


def attempt(p: RecoveryPolicy, now: float, success: bool = True) -> int:
    n = p.record_attempt(recovery_key(view()), now)
    p.record_outcome(recovery_key(view()), success, now + 5)
    return n


def test_waits_for_confirmation_then_recovers() -> None:
    p = policy()
    assert p.decide(view(), 1, T0).action == Action.WAIT
    d = p.decide(view(), 2, T0)
    assert d.action == Action.WAIT and "2/3" in d.reason
    d = p.decide(view(), 3, T0)
    assert d.action == Action.RECOVER and d.attempt == 1


@pytest.mark.parametrize("role", [r for r in Role if r != Role.PM])
def test_only_pms_are_recovered_automatically(role: Role) -> None:
    assert policy().decide(view(role=role), 10, T0).action == Action.SKIP


def test_auto_recover_off() -> None:
    p = RecoveryPolicy(auto_recover_pm=False)
    assert p.decide(view(), 10, T0).action == Action.SKIP


@pytest.mark.parametrize("state", [s for s in State if s != State.CRASHED])
def test_never_recovers_an_agent_that_is_not_crashed(state: State) -> None:
    d = policy().decide(view(state=state), 10, T0)
    assert d.action == (Action.WAIT if state == State.RATE_LIMITED else Action.SKIP)


def test_in_progress_grace_backoff_and_give_up_once() -> None:
    p = policy(grace=120, cooldown=300, backoff_base=2, max_attempts=3)
    key = recovery_key(view())
    assert p.record_attempt(key, T0) == 1
    assert p.decide(view(), 3, T0 + 1).reason == "a recovery is in progress"
    p.record_outcome(key, True, T0 + 5)
    d = p.decide(view(), 3, T0 + 60)
    assert d.action == Action.WAIT and d.retry_at == T0 + 120  # grace
    d = p.decide(view(), 3, T0 + 200)
    assert d.action == Action.WAIT and d.retry_at == T0 + 300  # backoff before attempt 2: cooldown
    assert p.decide(view(), 3, T0 + 300).attempt == 2
    attempt(p, T0 + 300)
    d = p.decide(view(), 3, T0 + 500)
    assert d.action == Action.WAIT and d.retry_at == T0 + 300 + 600  # doubled
    assert p.decide(view(), 3, T0 + 900).attempt == 3
    attempt(p, T0 + 900)
    assert p.decide(view(), 3, T0 + 950).action == Action.WAIT  # grace for attempt 3
    d = p.decide(view(), 3, T0 + 1100)
    assert d.action == Action.GIVE_UP and d.attempt == 3
    assert p.decide(view(), 3, T0 + 99999).action == Action.SKIP  # reported once only
    record = p.record(key)
    assert record is not None and record.gave_up and record.history[-1] == (T0 + 1100, "gave up")


def test_respawned_pm_in_a_new_window_shares_the_crash_count() -> None:
    p = policy(max_attempts=1, grace=0)
    attempt(p, T0)
    d = p.decide(view(index=7), 3, T0 + 10)
    assert d.action == Action.GIVE_UP


def test_two_pm_windows_of_one_session_count_apart() -> None:
    p = policy(max_attempts=1, grace=0)
    attempt(p, T0)
    assert p.decide(view(index=0), 3, T0 + 10).action == Action.GIVE_UP
    other = view(index=3, window="Claude-pm-backend")
    assert recovery_key(other) != recovery_key(view())
    assert p.decide(other, 3, T0 + 10).action == Action.RECOVER


def test_backoff_is_capped() -> None:
    p = RecoveryPolicy(cooldown=300, backoff_base=10, backoff_max=1000)
    assert [p.backoff(n) for n in (1, 2, 3, 4)] == [0.0, 300.0, 1000.0, 1000.0]


def test_healthy_long_enough_resets_attempts() -> None:
    p = policy(grace=120, cooldown=300)
    attempt(p, T0)
    assert not p.note_state(view(state=State.IDLE, since=T0 + 10), T0 + 200)
    assert p.note_state(view(state=State.IDLE, since=T0 + 10), T0 + 310)
    assert p.record(recovery_key(view())) is None
    assert p.decide(view(), 3, T0 + 311).attempt == 1


def test_manual_request_rules() -> None:
    p = policy()
    d = p.decide_manual(view(state=State.CRASHED, role=Role.DEVELOPER), T0)
    assert d.action == Action.RECOVER  # any role, no confirmation needed
    d = p.decide_manual(view(state=State.WORKING), T0)
    assert d.action == Action.REFUSE and d.refusal == Refusal.NOT_CRASHED
    assert "working, not crashed" in d.reason
    d = p.decide_manual(view(state=State.RATE_LIMITED, detail="resets 5pm"), T0)
    assert d.refusal == Refusal.RATE_LIMITED and "resets 5pm" in d.reason
    p.record_attempt(recovery_key(view()), T0)
    assert p.decide_manual(view(), T0 + 1).refusal == Refusal.BUSY


def test_manual_request_overrides_give_up() -> None:
    p = policy(max_attempts=1, grace=0)
    attempt(p, T0)
    assert p.decide(view(), 3, T0 + 10).action == Action.GIVE_UP
    assert p.decide_manual(view(), T0 + 11).action == Action.RECOVER
    p.record_attempt(recovery_key(view()), T0 + 11)
    record = p.record(recovery_key(view()))
    assert record is not None and not record.gave_up


def test_memory_round_trips_through_the_state_file_model() -> None:
    p = policy()
    attempt(p, T0, success=False)
    p.record_attempt(recovery_key(view()), T0 + 400)  # in progress when the daemon stopped
    saved = PersistedState(recovery=p.memory()).model_dump_json()
    restored = policy()
    restored.restore(PersistedState.model_validate_json(saved).recovery)
    record = restored.record(recovery_key(view()))
    assert record is not None and record.attempts == 2 and not record.in_progress
    assert record.history[1] == (T0 + 5, "failed")
    d = restored.decide(view(), 3, T0 + 450)
    assert d.action == Action.WAIT and d.reason.startswith("grace")


def test_forget_missing_keeps_running_recoveries() -> None:
    p = policy()
    p.record_attempt("a", T0)
    attempt(p, T0)
    p.forget_missing(set())
    assert p.record("a") is not None and p.record(recovery_key(view())) is None


def test_invalid_parameters() -> None:
    with pytest.raises(ValueError):
        RecoveryPolicy(confirmations=0)
