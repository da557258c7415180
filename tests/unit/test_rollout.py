"""Rollout bucketing and health-based promotion / rollback, with scripted health figures."""

from __future__ import annotations

from tmux_orc.core.rollout import (
    SAMPLE_EVERY_WHEN_PROVEN,
    SAMPLES_WHILE_JUDGING,
    HealthRules,
    HealthSample,
    RolloutManager,
    bucket,
    initial_stage,
    sessions_on_new,
    stage_fraction,
)
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


def test_fresh_install_starts_on_the_new_strategy_and_a_plugin_at_canary() -> None:
    full, off = RolloutStage.FULL, RolloutStage.OFF
    assert initial_stage(full, explicit=False, new_strategy="concurrent") is full
    assert initial_stage(full, explicit=False, new_strategy="my-plugin") is RolloutStage.CANARY
    assert initial_stage(full, explicit=True, new_strategy="my-plugin") is full  # configured: kept
    assert initial_stage(off, explicit=True, new_strategy="concurrent") is off  # the operator's choice


def test_saved_old_default_off_gives_way_to_the_configured_stage() -> None:
    m = RolloutManager(stage=RolloutStage.FULL)
    m.restore(RolloutStage.OFF, operator_set=False, frozen=False)  # saved by a release whose default was off
    assert m.stage is RolloutStage.FULL
    m.restore(RolloutStage.OFF, operator_set=True, frozen=False)  # an operator chose off: kept
    assert m.stage is RolloutStage.OFF
    m = RolloutManager(stage=RolloutStage.FULL)
    m.restore(RolloutStage.OFF, operator_set=False, frozen=True)  # a rollback led there: kept, frozen
    assert m.stage is RolloutStage.OFF and m.frozen
    m = RolloutManager(stage=RolloutStage.FULL)
    m.restore(RolloutStage.PARTIAL, operator_set=False, frozen=False)  # earned by promotion: kept
    assert m.stage is RolloutStage.PARTIAL


def test_cross_check_samples_less_once_proven_and_still_judges_disagreement() -> None:
    m = RolloutManager(stage=RolloutStage.FULL, rules=HealthRules(promote_after=5, min_cycles=3))
    assert m.sampling() == (SAMPLES_WHILE_JUDGING, 1)
    for _ in range(7):  # judged from the third cycle on (min_cycles)
        assert m.feed(healthy()) is None
    assert m.sampling() == (1, SAMPLE_EVERY_WHEN_PROVEN)
    sparse_ok = HealthSample(panes=4, ms_per_pane=1.0)  # a cycle without a sample
    for cycle in range(60):
        sample = HealthSample(panes=4, ms_per_pane=1.0, sampled=1) if cycle % 10 == 0 else sparse_ok
        assert m.feed(sample) is None
    # samples are few per cycle window now, so the rate is taken over the latest samples
    assert m.figures()["disagreement_samples"] > m.rules.window / SAMPLE_EVERY_WHEN_PROVEN
    decision = None
    for cycle in range(200):
        wrong = HealthSample(panes=4, ms_per_pane=1.0, sampled=1, disagreements=1)
        decision = m.feed(wrong if cycle % 10 == 0 else sparse_ok)
        if decision is not None:
            break
    assert decision is not None and "disagreement" in decision.reason and m.stage is RolloutStage.PARTIAL
    assert m.sampling() == (SAMPLES_WHILE_JUDGING, 1)  # a new stage is judged with the full sample again
