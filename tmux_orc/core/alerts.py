"""NotificationManager: which alerts to raise, when, and to whom (pure: time comes in as ``now``).

Conditions (crashed, stuck, error, rate limited, waiting for input, idle, whole team idle) are
level-triggered: ``tick`` looks at every agent each cycle and ``on_transition`` reacts at once to the
immediate ones. An alert is raised once per episode of a condition (dedupe) and at most once per
``cooldown`` for the same (agent, kind): an episode that starts inside the cooldown is raised when the
cooldown ends, if it still holds. ``drain`` hands out every alert for the D-Bus/desktop channel, and
batches per PM for the PMs that are ready (idle) to receive them; the rest wait, latest per
(agent, kind), and are dropped if their condition ends before delivery.

Per cycle: ``on_transition`` for each published state change, then ``tick(all agents)``, then
``drain``; ``requeue`` a batch whose delivery was refused.
"""

from __future__ import annotations

import unicodedata
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Literal

from tmux_orc.config import Settings
from tmux_orc.detect.screen import strip_escapes
from tmux_orc.model import HEALTHY_STATES, SEVERITY_RANK, AgentView, AlertKind, Role, State

Severity = Literal["info", "warning", "critical"]
PM_MESSAGE_MAX = 900
DETAIL_MAX = 160


SEVERITY: dict[AlertKind, Severity] = {
    AlertKind.CRASHED: "critical",
    AlertKind.STUCK: "warning",
    AlertKind.ERROR: "warning",
    AlertKind.RATE_LIMITED: "warning",
    AlertKind.WAITING_INPUT: "warning",
    AlertKind.IDLE: "info",
    AlertKind.TEAM_IDLE: "warning",
    AlertKind.RECOVERED: "info",
    AlertKind.RECOVERY_FAILED: "critical",
    AlertKind.CRASH_LOOP: "critical",
    AlertKind.ROLLOUT: "info",
    AlertKind.AUTO_RESUMED: "info",
}
# Raised the moment the agent enters the state; the others need time in the state (``tick``).
IMMEDIATE: dict[State, AlertKind] = {
    State.CRASHED: AlertKind.CRASHED,
    State.STUCK: AlertKind.STUCK,
    State.ERROR: AlertKind.ERROR,
    State.RATE_LIMITED: AlertKind.RATE_LIMITED,
}
CONDITION_KINDS = frozenset({*IMMEDIATE.values(), AlertKind.WAITING_INPUT, AlertKind.IDLE, AlertKind.TEAM_IDLE})
# Alert keys taken from a state file at most (a few per agent; a larger file was not written by us).
MAX_RESTORED = 10_000
# Each occurrence matters, whatever came shortly before: never held back by the cooldown.
NO_COOLDOWN = frozenset({AlertKind.ROLLOUT, AlertKind.RECOVERY_FAILED, AlertKind.CRASH_LOOP})
_PHRASE: dict[AlertKind, str] = {
    AlertKind.CRASHED: "crashed",
    AlertKind.STUCK: "is stuck",
    AlertKind.ERROR: "stopped on an error",
    AlertKind.RATE_LIMITED: "is rate limited",
    AlertKind.WAITING_INPUT: "waits for input",
    AlertKind.IDLE: "is idle",
    AlertKind.RECOVERED: "recovered",
    AlertKind.RECOVERY_FAILED: "recovery failed",
    AlertKind.CRASH_LOOP: "keeps crashing; automatic recovery gave up",
    AlertKind.AUTO_RESUMED: "was resumed after its usage limit reset",
}


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AlertKind
    severity: Severity
    summary: str
    body: str
    target: str
    agent_id: str | None
    session: str
    at: float

    @property
    def key(self) -> str:
        """Dedupe/cooldown key: the subject (agent id, or the session for team alerts) and the kind."""
        subject = self.agent_id if self.agent_id is not None else f"session:{self.session}"
        return f"{subject}|{self.kind}"

    @classmethod
    def for_agent(cls, kind: AlertKind, agent: AgentView, now: float, body: str | None = None,
                  severity: Severity | None = None) -> Alert:
        """An alert about one agent, e.g. ``Alert.for_agent(AlertKind.RECOVERY_FAILED, pm, now, why)``;
        the body defaults to the agent's detail."""
        body = agent.detail if body is None else body
        summary = f"{agent.target} ({agent.role}) {_PHRASE.get(kind, str(kind))}"
        return cls(kind, severity or SEVERITY[kind], sanitize(summary, DETAIL_MAX), sanitize(body, 400),
                   agent.target, agent.id, agent.session, now)


@dataclass(frozen=True, slots=True)
class AlertBatch:
    """Alerts for one PM, delivered as one message (:func:`render_pm_message`)."""

    recipient_agent_id: str
    recipient_pane_id: str
    session: str
    alerts: tuple[Alert, ...]


@dataclass(frozen=True, slots=True)
class DrainResult:
    batches: list[AlertBatch]  # for PMs ready to receive them now
    alerts: list[Alert]  # every alert raised since the last drain: D-Bus signal and desktop


@dataclass(slots=True)
class _Episode:
    subject: str  # agent id, or "session:<name>" for team alerts
    alerted: bool = False
    suppressed: bool = False


@dataclass(slots=True)
class _Counters:
    raised: int = 0
    sent: int = 0
    deduped: int = 0
    dropped: int = 0
    pm_batches: int = 0


class NotificationManager:
    def __init__(self, cooldown: float = 300.0, waiting_after: float = 60.0, idle_after: float = 600.0,
                 queue_max: int = 200, notify_pm: bool = True) -> None:
        self.cooldown = cooldown
        self.waiting_after = waiting_after
        self.idle_after = idle_after
        self.queue_max = queue_max
        self.notify_pm = notify_pm
        self._agents: dict[str, AgentView] = {}
        self._episodes: dict[str, _Episode] = {}
        self._last_sent: dict[str, float] = {}
        self._was_crashed: set[str] = set()
        self._queue: deque[Alert] = deque()
        self._held: dict[str, dict[str, Alert]] = {}  # PM agent id -> alert key -> latest alert
        self._counters = _Counters()

    @classmethod
    def from_settings(cls, settings: Settings) -> NotificationManager:
        return cls(settings.alert_cooldown, settings.waiting_alert_after, settings.idle_alert_after,
                   settings.alert_queue_max, settings.notify_pm)

    # --- inputs ------------------------------------------------------------------------------------
    def on_transition(self, agent: AgentView, old: State, new: State, now: float) -> None:
        """A published state change: raise the immediate alerts (and ``recovered``) right away."""
        self._agents[agent.id] = agent
        self._evaluate(agent, now, team_idle=False, timed=False, old=old)

    def tick(self, agents: Sequence[AgentView], now: float) -> None:
        """Every cycle, with every agent: time-based alerts, team idle, and ending finished episodes."""
        self._agents = {a.id: a for a in agents}
        idle_teams = self._idle_teams(agents, now)
        for agent in agents:
            self._evaluate(agent, now, team_idle=agent.session in idle_teams, timed=True)
        for session in idle_teams:
            self._condition(f"session:{session}|{AlertKind.TEAM_IDLE}", True, now,
                            partial(self._team_alert, session, now))
        live = {a.id for a in agents} | {f"session:{s}" for s in idle_teams}
        for key in [k for k, e in self._episodes.items() if e.subject not in live]:
            self._end(key)
        self._was_crashed &= set(self._agents)
        self._prune_cooldowns(now)

    def add(self, alert: Alert, respect_cooldown: bool | None = None) -> bool:
        """An alert from elsewhere (recovery outcomes, rollout). Returns False when held back."""
        use_cooldown = alert.kind not in NO_COOLDOWN if respect_cooldown is None else respect_cooldown
        if use_cooldown and self._in_cooldown(alert.key, alert.at):
            self._counters.deduped += 1
            return False
        self._raise(alert)
        return True

    # --- outputs -----------------------------------------------------------------------------------
    def drain(self, now: float) -> DrainResult:
        """Everything raised since the last call (each alert once), and batches for ready PMs."""
        alerts = list(self._queue)
        self._queue.clear()
        self._counters.sent += len(alerts)
        if self.notify_pm:
            for alert in alerts:
                recipient = self._recipient(alert)
                if recipient is not None:
                    self._held.setdefault(recipient.id, {})[alert.key] = alert
        batches: list[AlertBatch] = []
        for pm_id in list(self._held):
            pm = self._agents.get(pm_id)
            if pm is None or pm.role != Role.PM:
                self._reroute(pm_id)
                continue
            if pm.state != State.IDLE or not self._held[pm_id]:
                continue
            held = sorted(self._held.pop(pm_id).values(), key=lambda a: (-SEVERITY_RANK[a.severity], a.at))
            batches.append(AlertBatch(pm.id, pm.pane_id, pm.session, tuple(held)))
        self._counters.pm_batches += len(batches)
        self._bound_held()
        return DrainResult(batches, alerts)

    def requeue(self, batch: AlertBatch) -> None:
        """A batch that could not be delivered (prompt not empty, tmux error): hold it again."""
        held = self._held.setdefault(batch.recipient_agent_id, {})
        for alert in batch.alerts:
            held.setdefault(alert.key, alert)
        self._counters.pm_batches -= 1

    def counters(self) -> dict[str, int]:
        c = self._counters
        return {"alerts_raised": c.raised, "alerts_sent": c.sent, "alerts_deduped": c.deduped,
                "alerts_dropped": c.dropped, "pm_batches": c.pm_batches}

    @property
    def dropped(self) -> int:
        return self._counters.dropped

    def still_holds(self, alert: Alert) -> bool:
        """False once the condition an alert reported has ended (a held alert is not worth sending)."""
        return alert.kind not in CONDITION_KINDS or alert.key in self._episodes

    def pending(self) -> int:
        return len(self._queue) + sum(len(h) for h in self._held.values())

    # --- persistence -------------------------------------------------------------------------------
    def memory(self) -> dict[str, float]:
        """Last sent time per alert key, so a restart within the cooldown raises nothing twice."""
        return dict(self._last_sent)

    def restore(self, memory: dict[str, float]) -> None:
        """Take the persisted send times back: the newest :data:`MAX_RESTORED` keys (a state file is input)."""
        newest = sorted(memory.items(), key=lambda item: item[1], reverse=True)[:MAX_RESTORED]
        for key, at in newest:
            self._last_sent[key] = max(at, self._last_sent.get(key, at))

    # --- internals ---------------------------------------------------------------------------------
    def _evaluate(self, agent: AgentView, now: float, *, team_idle: bool, timed: bool,
                  old: State | None = None) -> None:
        state, held_for = agent.state, now - agent.state_since
        for st, kind in IMMEDIATE.items():
            self._condition(f"{agent.id}|{kind}", state == st, now, partial(_agent_alert, kind, agent, now))
        if state == State.CRASHED:
            self._was_crashed.add(agent.id)
        elif state in HEALTHY_STATES and (agent.id in self._was_crashed or old == State.CRASHED):
            self._was_crashed.discard(agent.id)
            self.add(Alert.for_agent(AlertKind.RECOVERED, agent, now, f"now {state}"))
        if not timed:
            return
        waiting = state == State.WAITING_INPUT and held_for >= self.waiting_after
        self._condition(f"{agent.id}|{AlertKind.WAITING_INPUT}", waiting, now,
                        partial(_agent_alert, AlertKind.WAITING_INPUT, agent, now, held_for))
        idle = agent.role != Role.PM and state == State.IDLE and held_for >= self.idle_after
        self._condition(f"{agent.id}|{AlertKind.IDLE}", idle, now,
                        partial(_agent_alert, AlertKind.IDLE, agent, now, held_for), covered=team_idle)

    def _team_alert(self, session: str, now: float) -> Alert:
        return Alert(AlertKind.TEAM_IDLE, SEVERITY[AlertKind.TEAM_IDLE],
                     sanitize(f"team of {session} is idle", DETAIL_MAX),
                     sanitize(f"every agent of session {session} except the PM has been idle for over "
                              f"{_minutes(self.idle_after)}", 400), session, None, session, now)

    def _condition(self, key: str, holds: bool, now: float, make: Callable[[], Alert],
                   covered: bool = False) -> None:
        """One condition's episode: start, raise once (after any cooldown), or end."""
        if not holds:
            if key in self._episodes:
                self._end(key)
            return
        episode = self._episodes.setdefault(key, _Episode(key.rpartition("|")[0]))
        if episode.alerted:
            return
        if covered:  # reported through a wider alert (the whole team idle)
            episode.alerted = True
            return
        if self._in_cooldown(key, now):
            if not episode.suppressed:
                episode.suppressed = True
                self._counters.deduped += 1
            return
        episode.alerted = True
        self._raise(make())

    def _end(self, key: str) -> None:
        self._episodes.pop(key, None)
        for held in self._held.values():
            held.pop(key, None)  # no longer true: not worth delivering late
        self._held = {pm: h for pm, h in self._held.items() if h}

    def _in_cooldown(self, key: str, now: float) -> bool:
        last = self._last_sent.get(key)
        return last is not None and now - last < self.cooldown

    def _raise(self, alert: Alert) -> None:
        self._last_sent[alert.key] = alert.at
        self._counters.raised += 1
        self._queue.append(alert)
        while len(self._queue) > self.queue_max:
            self._drop_one(self._queue)

    def _drop_one(self, alerts: deque[Alert]) -> None:
        """Drop the oldest of the least severe alerts."""
        victim = min(alerts, key=lambda a: (SEVERITY_RANK[a.severity], a.at))
        alerts.remove(victim)
        self._counters.dropped += 1

    def _bound_held(self) -> None:
        while sum(len(h) for h in self._held.values()) > self.queue_max:
            pm_id, key = min(((p, k) for p, h in self._held.items() for k in h),
                             key=lambda pk: (SEVERITY_RANK[self._held[pk[0]][pk[1]].severity],
                                             self._held[pk[0]][pk[1]].at))
            del self._held[pm_id][key]
            self._counters.dropped += 1
        self._held = {pm: h for pm, h in self._held.items() if h}

    def _recipient(self, alert: Alert) -> AgentView | None:
        """The PM of the alert's session that is not the alert's own subject (a healthy one first; a
        crashed PM gets its alerts once it is back and idle)."""
        pms = [a for a in self._agents.values()
               if a.role == Role.PM and a.session == alert.session and a.id != alert.agent_id]
        return min(pms, key=lambda a: (a.state not in HEALTHY_STATES, a.id)) if pms else None

    def _reroute(self, pm_id: str) -> None:
        for alert in self._held.pop(pm_id, {}).values():
            recipient = self._recipient(alert)
            if recipient is not None:
                self._held.setdefault(recipient.id, {})[alert.key] = alert

    def _idle_teams(self, agents: Iterable[AgentView], now: float) -> set[str]:
        teams: dict[str, list[AgentView]] = {}
        for a in agents:
            if a.role != Role.PM:
                teams.setdefault(a.session, []).append(a)
        return {s for s, team in teams.items() if len(team) >= 2 and all(
            a.state == State.IDLE and now - a.state_since >= self.idle_after for a in team)}

    def _prune_cooldowns(self, now: float) -> None:
        if len(self._last_sent) > 4 * self.queue_max:
            self._last_sent = {k: t for k, t in self._last_sent.items() if now - t < self.cooldown}


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _agent_alert(kind: AlertKind, agent: AgentView, now: float, held_for: float = 0.0) -> Alert:
    return Alert.for_agent(kind, agent, now, _body(kind, agent, held_for))


def _body(kind: AlertKind, agent: AgentView, held_for: float = 0.0) -> str:
    detail = sanitize(agent.detail, DETAIL_MAX)
    if kind == AlertKind.RATE_LIMITED:
        return f"limit resets: {detail}" if detail else "reset time unknown"
    if kind in (AlertKind.WAITING_INPUT, AlertKind.IDLE):
        lead = "waiting" if kind == AlertKind.WAITING_INPUT else "idle, no work"
        return f"{lead} for {_minutes(held_for)}" + (f": {detail}" if detail else "")
    return detail


_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def sanitize(text: str, limit: int) -> str:
    """One line of plain text: no escape sequences, control, format (bidi), unassigned or private-use
    characters; at most ``limit`` characters."""
    text = strip_escapes(text)
    if not text.isprintable():
        text = "".join(" " if unicodedata.category(c) in _UNSAFE_CATEGORIES else c for c in text)
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: max(limit - 1, 0)] + "…"


def render_pm_message(batch: AlertBatch) -> str:
    """The one-line message pasted into the PM's prompt. It starts with ``[tmux-orc]`` so no agent
    reads it as a slash command, shell escape (``!``) or memory note (``#``)."""
    parts = [a.summary + (f": {a.body}" if a.body else "") for a in batch.alerts]
    head = f"[tmux-orc] {len(parts)} alert{'s' if len(parts) != 1 else ''} for session {batch.session}: "
    head = sanitize(head, 200) + " "
    out: list[str] = []
    for n, part in enumerate(parts):
        rest = len(parts) - n - 1
        tail = f" | (+{rest} more: tmux-orc agents)" if rest else ""
        piece = sanitize(part, DETAIL_MAX * 2)
        if len(head) + len(" | ".join([*out, piece])) + len(tail) > PM_MESSAGE_MAX:
            out.append(f"(+{len(parts) - n} more: tmux-orc agents)")
            break
        out.append(piece)
    return head + " | ".join(out)
