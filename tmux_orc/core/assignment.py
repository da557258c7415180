"""Which strategy watches which tmux session: the rollout stage's fraction, applied to this cycle's sessions."""

from __future__ import annotations

from tmux_orc.config import Settings
from tmux_orc.core.rollout import LEGACY, RolloutManager, sessions_on_new, stage_fraction


class StrategyAssignment:
    """Called by the core each cycle with the sessions it sees; remembers the last assignment."""

    def __init__(self, rollout: RolloutManager, settings: Settings) -> None:
        self.rollout = rollout
        self.settings = settings  # replaced on reload
        self.current: dict[str, str] = {}

    def __call__(self, sessions: set[str]) -> dict[str, str]:
        """Session -> strategy name, for the stage in force now."""
        fraction = stage_fraction(
            self.rollout.stage, self.settings.rollout_canary_fraction, self.settings.rollout_partial_fraction
        )
        new = sessions_on_new(sessions, fraction)
        self.current = {s: (self.settings.new_strategy if s in new else LEGACY) for s in sessions}
        return self.current

    def summary(self) -> str:
        """The strategies in use, joined with ``+`` (``polling`` before the first cycle)."""
        return "+".join(sorted(set(self.current.values())) or [LEGACY])
