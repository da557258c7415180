"""Rollout bucketing and health-based promotion / rollback, with scripted health figures."""

from __future__ import annotations

from tmux_orc.core.rollout import HealthRules, HealthSample, RolloutManager, bucket, sessions_on_new, stage_fraction
from tmux_orc.model import RolloutStage

SESSIONS = [f"proj{n:02d}" for n in range(20)]


def test_bucket_is_stable_and_spread() -> None:
    assert bucket("proj01") == bucket("proj01")
    values = [bucket(s) for s in SESSIONS]
    assert all(0 <= v < 1 for v in values) and len(set(values)) == 20


def test_fractions_take_at_least_one_and_grow_monotonically() -> None:
    canary = sessions_on_new(SESSIONS, 0.1)
    partial = sessions_on_new(SESSIONS, 0.5)
    assert len(canary) == 2 and len(partial) == 10 and canary <= partial
    assert len(sessions_on_new(["solo"], 0.01)) == 1  # a non-zero share always takes a session
    assert sessions_on_new(SESSIONS, 0.0) == set()
    assert sessions_on_new(SESSIONS, 1.0) == set(SESSIONS)
    assert stage_fraction(RolloutStage.CANARY, 0.1, 0.5) == 0.1


def healthy() -> HealthSample:
    return HealthSample(panes=4, errors=0, ms_per_pane=1.0, legacy_ms_per_pane=2.0, sampled=2, disagreements=0)


def test_promotes_one_stage_after_n_healthy_cycles() -> None:
    m = RolloutManager(stage=RolloutStage.CANARY, rules=HealthRules(promote_after=5, min_cycles=3))
    decisions = [m.feed(healthy()) for _ in range(7)]
    assert [d.new_stage for d in decisions if d] == [RolloutStage.PARTIAL]
    assert m.stage is RolloutStage.PARTIAL and m.last_figures["cycles"] == 7


def test_rolls_back_on_error_breach_and_freezes_until_operator() -> None:
    m = RolloutManager(stage=RolloutStage.PARTIAL, rules=HealthRules(promote_after=3, min_cycles=3))
    bad = HealthSample(panes=4, errors=4)
    assert m.feed(bad) is None and m.feed(bad) is None  # too early to judge
    decision = m.feed(bad)
    assert decision is not None and decision.new_stage is RolloutStage.CANARY and "error rate" in decision.reason
    assert m.frozen
    for _ in range(10):
        assert m.feed(healthy()) is None  # frozen: never promotes by itself
    m.set_stage(RolloutStage.PARTIAL)
    assert not m.frozen


def test_rolls_back_on_latency_and_disagreement() -> None:
    slow = HealthSample(panes=4, ms_per_pane=400.0, legacy_ms_per_pane=10.0)
    m = RolloutManager(stage=RolloutStage.CANARY, rules=HealthRules(min_cycles=3))
    results = [m.feed(slow) for _ in range(3)]
    assert results[-1] is not None and "legacy" in results[-1].reason and m.stage is RolloutStage.OFF
    wrong = HealthSample(panes=4, ms_per_pane=1.0, sampled=2, disagreements=2)
    m = RolloutManager(stage=RolloutStage.FULL, rules=HealthRules(min_cycles=3))
    results = [m.feed(wrong) for _ in range(3)]
    assert results[-1] is not None and "disagreement" in results[-1].reason and m.stage is RolloutStage.PARTIAL


def test_auto_off_neither_promotes_nor_rolls_back() -> None:
    m = RolloutManager(stage=RolloutStage.CANARY, rules=HealthRules(promote_after=2, min_cycles=1), auto=False)
    assert all(m.feed(healthy()) is None for _ in range(5))
    assert m.feed(HealthSample(panes=4, errors=4)) is None and m.stage is RolloutStage.CANARY


def test_off_stage_ignores_samples() -> None:
    m = RolloutManager(stage=RolloutStage.OFF)
    assert m.feed(HealthSample(panes=4, errors=4)) is None
