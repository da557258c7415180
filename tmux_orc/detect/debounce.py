"""Confirmation before a new state is published: one noisy capture must not raise an alert."""

from __future__ import annotations

from tmux_orc.model import Verdict

MIN_SPAN = 0.1  # seconds between the first and the confirming reading of a new state


class Debouncer:
    """Publishes a state once ``confirmations`` consecutive readings agree on it over ``min_span`` seconds.

    Time-based: the readings that agree must span at least ``min_span`` (two readings ~100 ms apart
    confirm a state as well as two cycles do, two readings of the same instant do not). A reading of
    another state starts the count again, so a state that flickers between readings is never published.
    A hook event that agrees (``hook_confirmed=True``) confirms a state on a single reading, and
    ``confirmations`` of 1 publishes at once. The very first state is published the same way (once
    confirmed). While the published state holds, a verdict whose ``detail`` changed is returned again so
    the published detail stays fresh (e.g. a rate limit's reset time, the question asked); same detail
    returns None.
    """

    def __init__(self, confirmations: int = 2, min_span: float = MIN_SPAN) -> None:
        self._confirmations = max(1, confirmations)
        self._min_span = min_span
        self._published: Verdict | None = None
        self._candidate: Verdict | None = None
        self._streak = 0
        self._streak_since = 0.0  # time of the first reading of the current streak

    @property
    def published(self) -> Verdict | None:
        """The verdict last published (with the latest evidence for its state)."""
        return self._published

    def streak(self) -> int:
        """Consecutive observations agreeing with the latest observed state."""
        return self._streak

    def confirm_due(self) -> float | None:
        """When a reading could confirm the state seen last but not published yet; None if none waits."""
        if self._candidate is None or (self._published is not None
                                       and self._published.state == self._candidate.state):
            return None
        return self._streak_since + self._min_span

    def feed(self, verdict: Verdict, *, at: float, hook_confirmed: bool = False) -> Verdict | None:
        """Take one reading made at ``at`` (seconds); return the verdict to publish now, or None."""
        if self._candidate is not None and self._candidate.state == verdict.state:
            self._streak += 1
        else:
            self._streak = 1
            self._streak_since = at
        self._candidate = verdict
        published = self._published
        if published is not None and published.state == verdict.state:
            self._published = verdict
            return verdict if verdict.detail != published.detail else None
        confirmed = self._confirmations == 1 or (
            self._streak >= self._confirmations and at - self._streak_since >= self._min_span
        )
        if confirmed or hook_confirmed:
            self._published = verdict
            return verdict
        return None
