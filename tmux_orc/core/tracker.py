"""StateTracker: every agent the monitor knows, its published state and since when.

A record keeps what the next observation needs (previous observation, debouncer, last screen) and
turns confirmed verdicts into :class:`AgentView` changes. It does no I/O: persistence goes through
``export()`` / ``restore()``.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field, replace

from tmux_orc.detect.animation import same_but_animation
from tmux_orc.detect.debounce import Debouncer
from tmux_orc.detect.engine import hook_confirms
from tmux_orc.detect.screen import ScreenShape, read_layout, without_clocks
from tmux_orc.model import (
    AgentEvent,
    AgentView,
    Kind,
    Observation,
    PaneInfo,
    ProcessFacts,
    Role,
    State,
    Verdict,
)

MAX_EVENTS_KEPT = 8
_LEAD_FRAME = re.compile(r"^\s*[^\w\s(\[]\s+(?=\S)")  # a spinner frame or bullet in front of a line
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class ScreenKeys:
    """What a screen means, apart from its animation: equal keys, same verdict for a working agent.

    ``meaning`` leaves out clocks (a duration in parentheses), spinner frames and bullets in front of a
    line, and every other number (token and line counters); ``progress`` keeps the counters, so a moving
    counter still counts as progress for the stuck check while its meaning stays the same.
    """

    meaning: int
    progress: int


def keys_of(progress_text: str, title: str) -> ScreenKeys:
    """The :class:`ScreenKeys` of a screen's progress text and its pane title. The progress text is the
    screen read as the stuck check reads it (:meth:`~tmux_orc.detect.screen.Layout.progress_text` of the
    agent kind's shape): only the live region counts, so text further up the transcript never passes for
    progress or a new meaning."""
    title_text = without_clocks((_LEAD_FRAME.sub("", " " + title),))[0]
    progress = progress_text + "\x00" + title_text
    return ScreenKeys(hash(_DIGITS.sub("#", progress)), hash(progress))


def record_keys(rec: AgentRecord, screen: str, shape: ScreenShape | None) -> ScreenKeys:
    """:func:`keys_of` ``screen`` and the record's pane title. The record remembers the last screen's
    progress text: a screen that moved only in its animation since
    (:func:`~tmux_orc.detect.animation.same_but_animation`) has that same text, without reading its
    layout again (a spinner redraws many times a second)."""
    known = rec.progress
    if known is not None and known[0] is shape and same_but_animation(known[1], screen):
        text = known[2]
    else:
        text = read_layout(screen, shape or ScreenShape()).progress_text()
    rec.progress = (shape, screen, text)
    return keys_of(text, rec.pane.title)


@dataclass(slots=True)
class AgentRecord:
    """The tracker's own, mutable memory of one agent. Only the core's cycle changes it; everything
    else reads :class:`AgentSnapshot` copies."""

    view: AgentView
    pane: PaneInfo
    facts: ProcessFacts
    first_seen: float
    debouncer: Debouncer
    observation: Observation | None = None
    screen: str = ""
    events: deque[AgentEvent] = field(default_factory=lambda: deque(maxlen=MAX_EVENTS_KEPT))
    hook_pending: bool = False  # a hook event arrived since the last observation
    inputs: tuple[object, ...] = ()  # what the last classification was computed from, besides the screen
    keys: ScreenKeys | None = None  # of ``screen`` (with its title), when it was a working screen
    progress: tuple[ScreenShape | None, str, str] | None = None  # (shape, a screen, its progress text): record_keys's
    hash_stale: bool = False  # a working screen moved on without classification: observation.screen_hash is older


@dataclass(frozen=True, slots=True)
class AgentSnapshot:
    """What the core publishes about one agent: the view plus what alerts, recovery and Explain need."""

    view: AgentView
    pane: PaneInfo
    facts: ProcessFacts
    screen: str
    observation: Observation | None
    streak: int  # consecutive observations agreeing with the newest one
    events: tuple[AgentEvent, ...]

    @property
    def observed(self) -> State | None:
        """The newest observation's state (not yet published when it differs from the view's)."""
        return self.observation.verdict.state if self.observation is not None else None

    @property
    def crash_streak(self) -> int:
        """How many observations in a row saw the agent crashed (0 when the newest did not)."""
        return self.streak if self.observed is State.CRASHED else 0

    @classmethod
    def of(cls, rec: AgentRecord) -> AgentSnapshot:
        """A frozen copy of ``rec``."""
        return cls(rec.view, rec.pane, rec.facts, rec.screen, rec.observation, rec.debouncer.streak(),
                   tuple(rec.events))


@dataclass(frozen=True, slots=True)
class Remembered:
    """What survives a restart for one agent."""

    state: State
    state_since: float
    detail: str
    last_activity: float


class StateTracker:
    """Every agent the monitor knows, keyed by id: records for the cycle, snapshots for everyone else."""

    def __init__(self, confirmations: int = 2) -> None:
        self.confirmations = confirmations
        self.records: dict[str, AgentRecord] = {}  # the cycle's own; readers use snapshot()/snapshots()
        self._remembered: dict[str, Remembered] = {}

    # --- persistence -----------------------------------------------------------------------------
    def restore(self, remembered: dict[str, Remembered]) -> None:
        self._remembered = dict(remembered)

    def export(self) -> dict[str, Remembered]:
        out = dict(self._remembered)
        for agent_id, rec in self.records.items():
            v = rec.view
            out[agent_id] = Remembered(v.state, v.state_since, v.detail, v.last_activity)
        return out

    # --- discovery -------------------------------------------------------------------------------
    def upsert(
        self, pane: PaneInfo, role: Role, kind: str, facts: ProcessFacts, strategy: str, now: float
    ) -> tuple[AgentRecord, bool]:
        """The record for this pane (created when new). Returns (record, appeared)."""
        agent_id = pane.target
        rec = self.records.get(agent_id)
        if rec is not None and rec.pane.pane_id != pane.pane_id:
            # Another pane took this place (the tmux server restarted, or windows moved): same
            # agent id, new pane. Keep the published state; the next observations will confirm it.
            rec.pane = pane
            rec.view = replace(rec.view, pane_id=pane.pane_id, server=pane.server)
        if rec is None:
            remembered = self._remembered.get(agent_id)
            view = AgentView(
                id=agent_id,
                target=pane.target,
                session=pane.session,
                window=pane.window_name,
                pane_id=pane.pane_id,
                role=role,
                kind=kind,
                state=remembered.state if remembered else State.UNKNOWN,
                state_since=remembered.state_since if remembered else now,
                detail=remembered.detail if remembered else "",
                last_activity=remembered.last_activity if remembered else pane.window_activity,
                strategy=strategy,
                server=pane.server,
            )
            debouncer = Debouncer(self.confirmations)
            rec = AgentRecord(view=view, pane=pane, facts=facts, first_seen=now, debouncer=debouncer)
            self.records[agent_id] = rec
            return rec, True
        rec.pane = pane
        if facts.agent_pid is not None and rec.facts.agent_pid != facts.agent_pid:
            rec.first_seen = now  # a (re)started agent program: it gets its starting time again
        rec.facts = facts
        view = rec.view
        kind = kind if kind not in (Kind.SHELL, Kind.UNKNOWN) else view.kind  # remember what ran here
        activity = max(view.last_activity, pane.window_activity)
        if (view.role, view.kind, view.window, view.session, view.strategy, view.last_activity) != (
            role, kind, pane.window_name, pane.session, strategy, activity
        ):  # the same view is kept as it is: a copy of it for every agent at every cycle cost more
            rec.view = replace(view, role=role, kind=kind, window=pane.window_name, session=pane.session,
                               strategy=strategy, last_activity=activity)
        return rec, False

    def remove_missing(self, present: set[str]) -> list[AgentView]:
        gone = [agent_id for agent_id in self.records if agent_id not in present]
        views = [self.records.pop(agent_id).view for agent_id in gone]
        for agent_id in gone:
            self._remembered.pop(agent_id, None)
        return views

    # --- publication -----------------------------------------------------------------------------
    def observe(self, rec: AgentRecord, observation: Observation, now: float) -> AgentView | None:
        """Feed one observation; return the old view when the published view changed."""
        rec.observation = observation
        confirmed = rec.hook_pending and hook_confirms(observation.verdict, tuple(rec.events))
        published = rec.debouncer.feed(observation.verdict, at=now, hook_confirmed=confirmed)
        rec.hook_pending = False
        if published is None:
            return None
        return self._publish(rec, published, now)

    def _publish(self, rec: AgentRecord, verdict: Verdict, now: float) -> AgentView | None:
        old = rec.view
        since = old.state_since if verdict.state == old.state else now
        new = replace(old, state=verdict.state, detail=verdict.detail, rule=verdict.rule, state_since=since)
        if new == old:
            return None
        rec.view = new
        return old

    def touch_activity(self, rec: AgentRecord, at: float) -> AgentView | None:
        if at <= rec.view.last_activity:
            return None
        old = rec.view
        rec.view = replace(old, last_activity=at)
        return old

    def find(self, target: str) -> AgentRecord | None:
        """By id, ``session:window`` (index or name), ``session:window.pane`` or ``%N``."""
        if target in self.records:
            return self.records[target]
        for rec in self.records.values():
            p = rec.pane
            if target in (p.pane_id, f"{p.session}:{p.window_name}", f"{p.session}:{p.window_index}",
                          f"{p.session}:{p.window_name}.{p.pane_index}"):
                return rec
        return None

    def views(self) -> list[AgentView]:
        """The published views, ordered by session and target."""
        return sorted((r.view for r in self.records.values()), key=lambda v: (v.session, v.target))

    def count(self) -> int:
        """How many agents are known."""
        return len(self.records)

    def knows(self, agent_id: str) -> bool:
        """Is there a record for ``agent_id``?"""
        return agent_id in self.records

    def snapshot(self, agent_id: str) -> AgentSnapshot | None:
        """A frozen copy of one agent's record, None when it is not known."""
        rec = self.records.get(agent_id)
        return AgentSnapshot.of(rec) if rec is not None else None

    def find_snapshot(self, target: str) -> AgentSnapshot | None:
        """:meth:`find`, as a frozen copy."""
        rec = self.find(target)
        return AgentSnapshot.of(rec) if rec is not None else None

    def snapshots(self) -> list[AgentSnapshot]:
        """Frozen copies of every record, ordered as :meth:`views`."""
        recs = sorted(self.records.values(), key=lambda r: (r.view.session, r.view.target))
        return [AgentSnapshot.of(rec) for rec in recs]
