"""Confirmation before a new state is published: one noisy capture must not raise an alert."""

from __future__ import annotations

from tmux_orc.model import Verdict


class Debouncer:
    """Publishes a state once ``confirmations`` consecutive observations agree on it.

    A hook event that agrees (``hook_confirmed=True``) confirms a state on a single observation.
    The very first state is published the same way (once confirmed). While the published state
    holds, a verdict whose ``detail`` changed is returned again so the published detail stays fresh
    (e.g. a rate limit's reset time, the question asked); same detail returns None.
    """

    def __init__(self, confirmations: int = 2) -> None:
        self._confirmations = max(1, confirmations)
        self._published: Verdict | None = None
        self._candidate: Verdict | None = None
        self._streak = 0

    @property
    def published(self) -> Verdict | None:
        """The verdict last published (with the latest evidence for its state)."""
        return self._published

    def streak(self) -> int:
        """Consecutive observations agreeing with the latest observed state."""
        return self._streak

    def feed(self, verdict: Verdict, *, hook_confirmed: bool = False) -> Verdict | None:
        """Take one observation; return the verdict to publish now, or None."""
        if self._candidate is not None and self._candidate.state == verdict.state:
            self._streak += 1
        else:
            self._streak = 1
        self._candidate = verdict
        published = self._published
        if published is not None and published.state == verdict.state:
            self._published = verdict
            return verdict if verdict.detail != published.detail else None
        if self._streak >= self._confirmations or hook_confirmed:
            self._published = verdict
            return verdict
        return None
