"""Debouncer: confirmation, hook confirmation, fresh details, streaks."""

from __future__ import annotations

from tmux_orc.detect.debounce import Debouncer
from tmux_orc.model import State, Verdict

IDLE = Verdict(State.IDLE, "at prompt")
WORKING = Verdict(State.WORKING, "Forming…")


def test_first_state_needs_confirmation() -> None:
    deb = Debouncer(2)
    assert deb.feed(IDLE) is None and deb.published is None
    assert deb.feed(IDLE) == IDLE and deb.published == IDLE
    assert deb.feed(IDLE) is None


def test_flicker_is_not_published() -> None:
    deb = Debouncer(2)
    deb.feed(IDLE)
    deb.feed(IDLE)
    assert deb.feed(WORKING) is None
    assert deb.feed(IDLE) is None
    assert deb.published == IDLE
    assert deb.feed(WORKING) is None
    assert deb.feed(WORKING) == WORKING


def test_hook_confirms_on_one_observation() -> None:
    deb = Debouncer(3)
    assert deb.feed(WORKING, hook_confirmed=True) == WORKING


def test_detail_change_in_same_state_is_returned() -> None:
    deb = Debouncer(2)
    limited = Verdict(State.RATE_LIMITED, "limit; resets 17:00")
    deb.feed(limited)
    deb.feed(limited)
    newer = Verdict(State.RATE_LIMITED, "limit; resets 18:00")
    assert deb.feed(newer) == newer
    assert deb.feed(Verdict(State.RATE_LIMITED, "limit; resets 18:00", evidence=("x",))) is None
    assert deb.published is not None and deb.published.evidence == ("x",)


def test_streak_counts_agreeing_observations() -> None:
    deb = Debouncer(2)
    for n in range(1, 5):
        deb.feed(Verdict(State.CRASHED))
        assert deb.streak() == n
    deb.feed(IDLE)
    assert deb.streak() == 1


def test_confirmations_of_one_publishes_at_once() -> None:
    assert Debouncer(1).feed(IDLE) == IDLE
    assert Debouncer(0).feed(IDLE) == IDLE
