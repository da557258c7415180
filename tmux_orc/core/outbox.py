"""Alerts for the outside channels (Apprise URLs: ntfy, Slack, email, webhooks): pure decisions.

Batching follows the PM-pane rules: the alerts raised over ``delay`` seconds go out as one message,
latest per (agent, kind), the most severe first, and one whose condition ended before it went out
is dropped. Routing: each URL gets the alerts its :class:`Route` accepts. The sending itself is the
service layer's (:class:`ChannelSink`), off the cycle's path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from tmux_orc.core.alerts import Alert, sanitize
from tmux_orc.model import SEVERITY_RANK

TITLE_MAX = 200
BODY_MAX = 3000
MAX_BATCH = 50


class ChannelSink(Protocol):
    """Where batches of alerts for the outside channels go. ``send`` returns at once, never raises."""

    def send(self, alerts: Sequence[Alert]) -> None:
        """Queue one batch (most severe first) for the channels that want some of it."""
        ...

    def counters(self) -> dict[str, int]:
        """Figures for GetMetrics."""
        ...


@dataclass(frozen=True, slots=True)
class Route:
    """Which alerts one URL wants: a severity tag sets its minimum, kind tags restrict it to those kinds.

    No tag: every alert at ``notify_min_severity`` or above. ``critical=...``: critical alerts only.
    ``crashed,stuck=...``: crashes and stuck agents, whatever their severity.
    ``warning,rate_limited,auto_resumed=...``: those two kinds, when at least a warning.
    """

    min_rank: int
    kinds: frozenset[str] = frozenset()

    @classmethod
    def from_tags(cls, tags: Iterable[str], default_min: str) -> Route:
        """The route of an URL with these tags (severity names and alert kinds)."""
        tags = set(tags)
        severities = [SEVERITY_RANK[t] for t in tags if t in SEVERITY_RANK]
        kinds = frozenset(tags - set(SEVERITY_RANK))
        if severities:
            return cls(min(severities), kinds)
        return cls(0 if kinds else SEVERITY_RANK[default_min], kinds)

    def accepts(self, alert: Alert) -> bool:
        """Whether this URL wants ``alert``."""
        if SEVERITY_RANK[alert.severity] < self.min_rank:
            return False
        return not self.kinds or str(alert.kind) in self.kinds


class Outbox:
    """Alerts gathered for the channels until the batch is due."""

    def __init__(self) -> None:
        self._held: dict[str, Alert] = {}  # alert key -> latest alert
        self._since: float | None = None  # when the first alert of this batch was raised
        self.dropped = 0  # condition over before the batch went out

    def add(self, alerts: Iterable[Alert]) -> None:
        """Every alert raised this cycle (each once)."""
        for alert in alerts:
            if self._since is None:
                self._since = alert.at
            self._held[alert.key] = alert

    def take(self, now: float, delay: float, holds: Callable[[Alert], bool]) -> list[Alert]:
        """The batch, once its oldest alert has waited ``delay`` seconds; ``[]`` until then."""
        for key, alert in list(self._held.items()):
            if not holds(alert):
                del self._held[key]
                self.dropped += 1
        if not self._held:
            self._since = None
            return []
        if self._since is not None and now - self._since < delay:
            return []
        batch = sorted(self._held.values(), key=lambda a: (-SEVERITY_RANK[a.severity], a.at))
        self._held.clear()
        self._since = None
        if len(batch) > MAX_BATCH:
            self.dropped += len(batch) - MAX_BATCH
            batch = batch[:MAX_BATCH]
        return batch

    def pending(self) -> int:
        """Alerts waiting for their batch."""
        return len(self._held)


@dataclass(frozen=True, slots=True)
class ChannelMessage:
    """What one URL receives for one batch."""

    title: str
    body: str
    severity: str  # the highest of its alerts


def render_message(alerts: Sequence[Alert]) -> ChannelMessage:
    """One message for ``alerts`` (most severe first): the alert itself when alone, else a count."""
    top = max(alerts, key=lambda a: SEVERITY_RANK[a.severity])
    if len(alerts) == 1:
        title = f"tmux-orc: {top.summary}"
    else:
        critical = sum(1 for a in alerts if a.severity == "critical")
        extra = f", {critical} critical" if critical else ""
        title = f"tmux-orc: {len(alerts)} alerts{extra}"
    lines = [f"[{a.severity}] {a.summary}" + (f": {a.body}" if a.body else "") for a in alerts]
    body = "\n".join(sanitize(line, 600) for line in lines)
    if len(body) > BODY_MAX:
        body = body[: BODY_MAX - 1] + "…"
    return ChannelMessage(sanitize(title, TITLE_MAX), body, top.severity)
