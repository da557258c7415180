"""Debouncer: time-based confirmation, hook confirmation, fresh details, streaks."""

from __future__ import annotations

from tmux_orc.detect.debounce import Debouncer
from tmux_orc.model import State, Verdict

IDLE = Verdict(State.IDLE, "at prompt")
WORKING = Verdict(State.WORKING, "Forming…")


def test_first_state_needs_confirmation() -> None:
    deb = Debouncer(2)
    assert deb.feed(IDLE, at=0.0) is None and deb.published is None
    assert deb.feed(IDLE, at=2.0) == IDLE and deb.published == IDLE
    assert deb.feed(IDLE, at=4.0) is None


def test_confirmation_is_two_readings_some_time_apart() -> None:
    deb = Debouncer(2, min_span=0.1)
    assert deb.feed(IDLE, at=10.0) is None and deb.confirm_due() == 10.1
    assert deb.feed(IDLE, at=10.02) is None  # two readings of (nearly) the same instant confirm nothing
    assert deb.feed(IDLE, at=10.11) == IDLE  # a reading 100 ms after the first one does
    assert deb.confirm_due() is None


def test_flicker_is_not_published() -> None:
    deb = Debouncer(2)
    deb.feed(IDLE, at=0.0)
    deb.feed(IDLE, at=2.0)
    assert deb.feed(WORKING, at=4.0) is None
    assert deb.feed(IDLE, at=6.0) is None
    assert deb.published == IDLE
    assert deb.feed(WORKING, at=8.0) is None
    assert deb.feed(WORKING, at=10.0) == WORKING


def test_fast_flicker_is_not_published_either() -> None:
    """Readings 100 ms apart that alternate never confirm the other state, however many there are."""
    deb = Debouncer(2, min_span=0.1)
    deb.feed(IDLE, at=0.0)
    deb.feed(IDLE, at=0.2)
    for n in range(50):
        assert deb.feed(WORKING if n % 2 == 0 else IDLE, at=0.3 + 0.1 * n) is None
    assert deb.published == IDLE


def test_hook_confirms_on_one_observation() -> None:
    deb = Debouncer(3)
    assert deb.feed(WORKING, at=0.0, hook_confirmed=True) == WORKING


def test_detail_change_in_same_state_is_returned() -> None:
    deb = Debouncer(2)
    limited = Verdict(State.RATE_LIMITED, "limit; resets 17:00")
    deb.feed(limited, at=0.0)
    deb.feed(limited, at=2.0)
    newer = Verdict(State.RATE_LIMITED, "limit; resets 18:00")
    assert deb.feed(newer, at=4.0) == newer
    assert deb.feed(Verdict(State.RATE_LIMITED, "limit; resets 18:00", evidence=("x",)), at=6.0) is None
    assert deb.published is not None and deb.published.evidence == ("x",)


def test_streak_counts_agreeing_observations() -> None:
    deb = Debouncer(2)
    for n in range(1, 5):
        deb.feed(Verdict(State.CRASHED), at=float(n))
        assert deb.streak() == n
    deb.feed(IDLE, at=9.0)
    assert deb.streak() == 1


def test_confirmations_of_one_publishes_at_once() -> None:
    assert Debouncer(1).feed(IDLE, at=0.0) == IDLE
    assert Debouncer(0).feed(IDLE, at=0.0) == IDLE
