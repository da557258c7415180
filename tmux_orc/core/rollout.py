"""Rollout stages: which strategy watches which tmux session, and health-based promotion / rollback.

Pure logic: a stable hash bucket per session name, and a small state machine fed with one
:class:`HealthSample` per cycle. The caller persists ``RolloutState`` and publishes the changes.
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from tmux_orc.model import CONCURRENT_STRATEGY, LEGACY_STRATEGY, RolloutStage

LEGACY = LEGACY_STRATEGY
BUILTIN_NEW = CONCURRENT_STRATEGY  # the new strategy shipped with the daemon: what a fresh install runs on
ORDER = (RolloutStage.OFF, RolloutStage.CANARY, RolloutStage.PARTIAL, RolloutStage.FULL)
SAMPLES_WHILE_JUDGING = 2  # panes re-read by the legacy strategy per cycle until the stage proved healthy
SAMPLE_EVERY_WHEN_PROVEN = 10  # then one pane every this many cycles
DISAGREEMENT_SAMPLES = 40  # the disagreement rate is taken over this many latest samples


def initial_stage(configured: RolloutStage, *, explicit: bool, new_strategy: str) -> RolloutStage:
    """The stage a daemon starts at when none was persisted.

    The built-in new strategy is the default for every session (``full``); a plugin named as the new
    strategy earns its way from ``canary`` unless the operator configured a stage. A configured stage
    (``off`` included) is always kept.
    """
    if explicit or new_strategy == BUILTIN_NEW:
        return configured
    return RolloutStage.CANARY if configured is RolloutStage.FULL else configured


class RolloutCause(StrEnum):
    """Why the stage changed."""

    OPERATOR = "operator"  # SetRolloutStage / `tmux-orc monitor rollout STAGE`
    PROMOTED = "promoted"  # enough healthy cycles at the stage below
    ROLLED_BACK = "rolled_back"  # a health budget was breached


OPERATOR_REASON = "set by operator"


def bucket(session: str) -> float:
    """A number in [0, 1) fixed by the session name alone (same on every host and restart)."""
    digest = hashlib.blake2b(session.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def stage_fraction(stage: RolloutStage, canary: float, partial: float) -> float:
    """The share of sessions the new strategy takes at ``stage``."""
    return {RolloutStage.OFF: 0.0, RolloutStage.CANARY: canary,
            RolloutStage.PARTIAL: partial, RolloutStage.FULL: 1.0}[stage]


def sessions_on_new(sessions: Iterable[str], fraction: float) -> set[str]:
    """The sessions the new strategy takes: the lowest buckets, ``ceil(fraction * n)`` of them.

    A non-zero share always takes at least one session; a session keeps its strategy as long as the
    set of sessions does not change, and growing the fraction only ever adds sessions.
    """
    names = sorted(set(sessions), key=lambda s: (bucket(s), s))
    if fraction <= 0 or not names:
        return set()
    count = max(1, min(len(names), math.ceil(fraction * len(names) - 1e-9)))
    return set(names[:count])


@dataclass(frozen=True, slots=True)
class HealthRules:
    promote_after: int = 30  # healthy cycles at a stage before moving one stage up
    window: int = 20  # cycles the error/latency figures are computed over
    max_error_rate: float = 0.2  # share of the new strategy's panes failing capture in the window
    max_latency_ratio: float = 3.0  # new strategy's p95 per pane vs the legacy strategy's
    latency_floor_ms: float = 50.0  # below this p95 the ratio is not judged (noise)
    max_disagreement_rate: float = 0.2  # share of sampled panes where the two strategies disagree
    min_cycles: int = 3  # cycles at a stage before its figures are judged at all


@dataclass(frozen=True, slots=True)
class HealthSample:
    """The new strategy's figures for one cycle."""

    panes: int = 0
    errors: int = 0
    ms_per_pane: float = 0.0
    legacy_ms_per_pane: float | None = None
    sampled: int = 0
    disagreements: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """An automatic stage change: where to, and why."""

    new_stage: RolloutStage
    reason: str
    cause: RolloutCause


@dataclass(slots=True)
class RolloutManager:
    """The stage, and the health-based state machine that promotes and rolls back."""

    stage: RolloutStage = RolloutStage.OFF
    rules: HealthRules = field(default_factory=HealthRules)
    auto: bool = True
    frozen: bool = False  # after a rollback: no promotion until an operator sets the stage
    healthy_cycles: int = 0
    _samples: deque[HealthSample] = field(default_factory=lambda: deque(maxlen=200))
    _verdicts: deque[bool] = field(default_factory=lambda: deque(maxlen=DISAGREEMENT_SAMPLES))  # True: disagreed
    last_reason: str = ""
    last_figures: dict[str, float] = field(default_factory=dict)  # the figures behind the last decision

    def set_stage(self, stage: RolloutStage, reason: str = OPERATOR_REASON) -> RolloutStage:
        """The operator's choice; it lifts a freeze. Returns the previous stage."""
        previous = self.stage
        self.stage = stage
        self.frozen = False
        self.healthy_cycles = 0
        self._clear()
        self.last_reason = reason
        return previous

    def restore(self, stage: RolloutStage, *, operator_set: bool, frozen: bool) -> None:
        """Take the stage saved by an earlier run, unless it is only the old default.

        ``off`` that no operator chose and no rollback led to was saved by a release whose default was
        ``off``: the configured starting stage applies instead. Any stage an operator set, a rollback
        reached or a promotion earned is kept as it was.
        """
        if stage is RolloutStage.OFF and not operator_set and not frozen:
            return
        self.stage, self.frozen = stage, frozen

    def proven(self) -> bool:
        """True once the current stage ran ``promote_after`` healthy cycles in a row."""
        return self.healthy_cycles >= self.rules.promote_after

    def sampling(self) -> tuple[int, int]:
        """(panes, every N cycles) the legacy cross-check re-reads: more while a stage is judged."""
        if self.proven():
            return 1, SAMPLE_EVERY_WHEN_PROVEN
        return SAMPLES_WHILE_JUDGING, 1

    def _clear(self) -> None:
        self._samples.clear()
        self._verdicts.clear()

    def figures(self) -> dict[str, float]:
        """The health figures over the current window."""
        window = list(self._samples)[-self.rules.window :]
        panes = sum(s.panes for s in window)
        sampled = sum(s.sampled for s in window)
        per_pane = sorted(s.ms_per_pane for s in window if s.panes)
        legacy = sorted(s.legacy_ms_per_pane for s in window if s.legacy_ms_per_pane is not None)
        verdicts = list(self._verdicts)
        return {
            "cycles": float(len(window)),
            "healthy_cycles": float(self.healthy_cycles),
            "error_rate": (sum(s.errors for s in window) / panes) if panes else 0.0,
            "p95_ms_per_pane": _p95(per_pane),
            "legacy_p95_ms_per_pane": _p95(legacy),
            "sampled": float(sampled),
            # over the latest samples, not the cycle window: the cross-check samples less once proven
            "disagreement_rate": (sum(verdicts) / len(verdicts)) if verdicts else 0.0,
            "disagreement_samples": float(len(verdicts)),
        }

    def feed(self, sample: HealthSample) -> Decision | None:
        """One cycle's health; returns a stage change when one is due."""
        if self.stage is RolloutStage.OFF or (sample.panes == 0 and sample.sampled == 0):
            return None
        self._samples.append(sample)
        agreed = max(0, sample.sampled - sample.disagreements)
        self._verdicts.extend([True] * min(sample.disagreements, sample.sampled) + [False] * agreed)
        if not self.auto or len(self._samples) < self.rules.min_cycles:
            return None  # automation off (rollout_auto), or too early to judge either way
        breach = self._breach()
        if breach:
            self.last_figures = self.figures()
            previous = ORDER[max(0, ORDER.index(self.stage) - 1)]
            self.stage, self.frozen, self.healthy_cycles = previous, True, 0
            self._clear()
            self.last_reason = f"rolled back: {breach}"
            return Decision(previous, self.last_reason, RolloutCause.ROLLED_BACK)
        self.healthy_cycles += 1
        if self.frozen or self.stage is RolloutStage.FULL:
            return None
        if self.healthy_cycles >= self.rules.promote_after:
            self.last_figures = self.figures()
            nxt = ORDER[ORDER.index(self.stage) + 1]
            self.stage, self.healthy_cycles = nxt, 0
            self._clear()
            self.last_reason = f"promoted after {self.rules.promote_after} healthy cycles"
            return Decision(nxt, self.last_reason, RolloutCause.PROMOTED)
        return None

    def _breach(self) -> str:
        f = self.figures()
        r = self.rules
        if f["error_rate"] > r.max_error_rate:
            return f"error rate {f['error_rate']:.0%} > {r.max_error_rate:.0%} over {f['cycles']:.0f} cycles"
        legacy = f["legacy_p95_ms_per_pane"]
        p95 = f["p95_ms_per_pane"]
        if legacy > 0 and p95 * 1.0 > r.latency_floor_ms and p95 > r.max_latency_ratio * legacy:
            return f"p95 {p95:.1f} ms/pane > {r.max_latency_ratio:g}x legacy {legacy:.1f} ms/pane"
        if f["disagreement_rate"] > r.max_disagreement_rate:
            return f"detection disagreement {f['disagreement_rate']:.0%} > {r.max_disagreement_rate:.0%}"
        return ""


def _p95(values: list[float]) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, math.ceil(0.95 * len(values)) - 1)]
