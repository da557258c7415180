"""The monitoring cycle: tmux snapshot -> process facts -> classification -> published states -> events.

``MonitorCore`` owns no D-Bus and no systemd: the service layer drives ``run_cycle()`` and listens to
its :class:`~tmux_orc.core.events.EventHub`. Everything here is usable (and tested) without a bus.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from tmux_orc.config import Settings
from tmux_orc.core.capture import capture_screens
from tmux_orc.core.crosscheck import LegacyCrossCheck, SamplePlan
from tmux_orc.core.events import AgentAppeared, AgentUpdated, AgentVanished, EventHub, StatusChanged
from tmux_orc.core.hooks import HookInbox
from tmux_orc.core.ports import Clock, PaneIOError, PaneSource, ProcessProbe, ProcessReader, ServerUnavailable
from tmux_orc.core.report import CycleReport as CycleReport
from tmux_orc.core.report import unique_panes
from tmux_orc.core.rollout import LEGACY
from tmux_orc.core.strategy import MonitoringStrategy
from tmux_orc.core.tracker import AgentRecord, StateTracker, record_keys
from tmux_orc.core.trees import PaneTrees
from tmux_orc.detect import toolcpu
from tmux_orc.detect.catalog import Catalog
from tmux_orc.detect.engine import DetectContext, classify
from tmux_orc.detect.process import find_agent
from tmux_orc.detect.profiles import load_agents
from tmux_orc.detect.roles import role_from_window
from tmux_orc.detect.rules import Profiles
from tmux_orc.detect.screen import ScreenShape
from tmux_orc.model import AgentView, Observation, PaneInfo, ProcessFacts, Role, State, is_agent_kind
from tmux_orc.sockets import WatchedSockets, socket_dir

log = logging.getLogger(__name__)

# States whose verdict depends on nothing but the screen and the facts (no timer can change them).
# Not stuck: a stuck agent's tools may get busy again (detect.toolcpu).
TIMELESS_STATES = frozenset({State.IDLE, State.WAITING_INPUT, State.UNSUBMITTED, State.ERROR, State.CRASHED})
YIELD_EVERY = 50  # agents a cycle works through between turns of the event loop (D-Bus calls wait less)


StrategyAssigner = Callable[[set[str]], Mapping[str, str]]  # sessions of this cycle -> strategy per session


class MonitorCore:
    """One monitoring cycle over every pane: discovery, capture, classification, publication.

    ``sample_plan`` says how many panes the legacy cross-check re-reads, every how many cycles
    (the rollout's :meth:`~tmux_orc.core.rollout.RolloutManager.sampling`). With ``probe_processes``
    a pane's tree is read again only when it may have changed (:mod:`~tmux_orc.core.trees`).
    """

    def __init__(
        self,
        settings: Settings,
        source: PaneSource,
        strategies: Mapping[str, MonitoringStrategy],
        assign_strategies: StrategyAssigner,
        read_processes: ProcessReader,
        hub: EventHub | None = None,
        tracker: StateTracker | None = None,
        clock: Clock = time.time,
        sample_plan: SamplePlan | None = None,
        probe_processes: ProcessProbe | None = None,
    ) -> None:
        self.settings = settings
        self.source = source
        self.strategies = dict(strategies)
        self.assign_strategies = assign_strategies
        self._assignment: Mapping[str, str] = {}
        self.hub = hub or EventHub()
        self.tracker = tracker or StateTracker()
        self.clock = clock
        self.read_processes = read_processes
        self.running = True
        self.tmux_connected = False
        self.tmux_error = ""  # why the last list of panes failed ("" once it works)
        self.cycles = 0
        self.last_cycle_ms = 0.0
        self.started_at = clock()
        self._full_refresh_countdown = 0
        self.last_full_cycle = -1  # the number of the last cycle that read every pane (held ones too)
        self.catalog: Catalog = load_agents(settings.resolved_agents_dir(), settings.rules_file)
        self._cycle_lock = asyncio.Lock()
        self.hooks = HookInbox(self.tracker, clock)
        self.sockets = WatchedSockets(settings.tmux_socket, socket_dir())  # the servers hooks may come from
        self.crosscheck = LegacyCrossCheck(sample_plan)
        # change-driven readings between cycles (core.follow): what they published, for the next report
        self._carried: list[AgentUpdated] = []
        self.confirm_at: dict[str, float] = {}  # agent id -> when a reading can confirm its new state
        self.on_meaning_changed: Callable[[str], None] | None = None  # pane id whose observed state changed
        self.watching: Callable[[], set[str]] = set  # session ids whose panes' changes are followed now
        self.rereads = 0
        # panes whose last reading failed (a capture timed out under load): read by the next cycle even
        # when the change feed follows them, since the change that asked for the reading is not seen again
        self.unread: set[str] = set()
        self._watched: set[str] = set()  # sessions the change feed followed at the last cycle
        self.trees = PaneTrees(read_processes, probe_processes)  # which trees a cycle reads (core.trees)

    # --- the cycle -------------------------------------------------------------------------------
    async def run_cycle(self) -> CycleReport:
        """One cycle; the report says what it saw and changed. Cycles never overlap."""
        async with self._cycle_lock:
            report = CycleReport(started=self.clock())
            t0 = time.perf_counter()
            try:
                await self._cycle(report)
            finally:
                report.transitions[:0] = self._carried  # published between cycles: alerts see them now
                self._carried.clear()
                report.duration_ms = (time.perf_counter() - t0) * 1000.0
                self.cycles += 1
                self.last_cycle_ms = report.duration_ms
                self.hub.emit(StatusChanged())
            return report

    async def _cycle(self, report: CycleReport) -> None:
        mark = time.perf_counter()

        def phase(name: str) -> None:
            nonlocal mark
            now_mark = time.perf_counter()
            report.phases[name] = (now_mark - mark) * 1000.0
            mark = now_mark

        try:
            panes = await self.source.list_panes()
        except (PaneIOError, TimeoutError, OSError) as exc:
            # Keep every agent as it was: a tmux restart must not lose their state.
            if self.tmux_connected:
                log.warning("lost the tmux server: %s", exc)
            self.tmux_connected = False
            self.tmux_error = str(exc) or type(exc).__name__
            report.tmux_connected = False
            if not isinstance(exc, ServerUnavailable):
                report.errors.append(f"list-panes: {exc}")
            return
        if not self.tmux_connected:
            log.info("connected to the tmux server (%d panes)", len(panes))
        self.tmux_connected = True
        self.tmux_error = ""
        now = report.started
        phase("list")
        panes = unique_panes(panes)
        report.panes = len(panes)
        self._assignment = self.assign_strategies({p.session for p in panes})
        try:
            # only the process trees under the panes, and of those the ones that may have changed
            candidates = self.trees.candidates(panes, self.tracker.records.values(), now, self.settings.stuck_after)
            table, kept = await asyncio.to_thread(self.trees.read, panes, candidates)
        except OSError as exc:
            # Without process facts nothing can be decided safely: keep every state as it is.
            report.errors.append(f"/proc: {exc}")
            log.warning("cannot read /proc (%s); states kept as they were", exc)
            return
        phase("proc")

        agents: list[AgentRecord] = []
        for index, pane in enumerate(panes):
            if index and index % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # clients' calls are answered between batches of agents
            facts = kept.get(pane.pane_pid)
            if facts is None:
                facts = find_agent(pane, table, self.catalog.patterns)
                self.trees.store(pane, facts, table, self.catalog.patterns, now)
            rec = self._discover(pane, facts, now, report)
            if rec is not None:
                agents.append(rec)
        self.trees.keep_only(p.pane_pid for p in panes)
        if self.unread:  # mostly empty: no pass over every pane for it
            self.unread.intersection_update(p.pane_id for p in panes)
        present = {rec.view.id for rec in agents}
        for view in self.tracker.remove_missing(present):
            report.vanished.append(view)
            self.hub.emit(AgentVanished(view))

        phase("discover")
        self._full_refresh_countdown -= 1
        full = self._full_refresh_countdown <= 0
        if full:
            self._full_refresh_countdown = self.settings.full_refresh_every
            self.last_full_cycle = self.cycles
        # A pane the change feed follows is read the moment it prints news (core.follow): between full
        # refreshes the cycle leaves it out, and its verdict stands on the last reading. Only once its
        # session was followed at the last cycle too: what it drew before the feed attached is read here.
        now_watched = set(self.watching())
        watched, self._watched = now_watched & self._watched, now_watched
        todo = agents if full else [r for r in agents if not (self.followable(r) and r.pane.session_id in watched)
                                    or r.pane.pane_id in self.unread]
        screens = await self._capture(todo, report, full=full)
        phase("capture")
        for index, rec in enumerate(agents):
            if index and index % YIELD_EVERY == 0:
                await asyncio.sleep(0)
            if not rec.pane.dead and rec.pane.pane_pid not in kept and table.get(rec.pane.pane_pid) is None:
                continue  # the pane's process is not in this scan (just born or just gone): decide nothing
            self._classify(rec, screens.get(rec.pane.pane_id), now, report)
        phase("classify")
        await self._compare_with_legacy(agents, now, report)
        phase("sample")

    def _discover(self, pane: PaneInfo, facts: ProcessFacts, now: float, report: CycleReport) -> AgentRecord | None:
        role = role_from_window(pane.window_name, self.settings.agent_window_prefix, self.settings.roles)
        strategy = self._assignment.get(pane.session, LEGACY)
        if strategy not in self.strategies:
            strategy = LEGACY
        rec = self.tracker.records.get(pane.target)
        if rec is not None and rec.pane is pane and rec.facts is facts and rec.view.strategy == strategy \
                and rec.view.role == (role or Role.AGENT):
            return rec  # the same row and the same tree reading as last cycle: nothing to update
        known = rec is not None
        if role is None and not is_agent_kind(facts.kind) and not known:
            return None
        rec, appeared = self.tracker.upsert(pane, role or Role.AGENT, facts.kind, facts, strategy, now)
        if appeared:
            self.hooks.take_early(rec, now)
            report.appeared.append(rec.view)
            self.hub.emit(AgentAppeared(rec.view))
        return rec

    async def _capture(self, agents: Sequence[AgentRecord], report: CycleReport, *, full: bool) -> dict[str, str]:
        """Screens of the agents' panes (:func:`~tmux_orc.core.capture.capture_screens`); the panes whose
        reading failed are kept :attr:`unread` until one succeeds."""
        screens, failed = await capture_screens(self.strategies, agents, report, full=full,
                                                command_timeout=self.settings.command_timeout)
        self.unread = (self.unread - screens.keys()) | failed
        return screens

    def _context(self, rec: AgentRecord, now: float) -> DetectContext:
        return DetectContext(
            now=now,
            first_seen=rec.first_seen,
            stuck_after=self.settings.stuck_after,
            starting_after=self.settings.starting_after,
            events=tuple(rec.events),
        )

    async def _compare_with_legacy(self, agents: Sequence[AgentRecord], now: float, report: CycleReport) -> None:
        """The rollout's detection-disagreement figure (:class:`LegacyCrossCheck`)."""

        def again(rec: AgentRecord, screen: str) -> State:
            context = self._context(rec, now)
            return classify(screen, rec.pane, rec.facts, rec.observation, context, self.profiles).verdict.state

        await self.crosscheck.sample(agents, self.strategies.get(LEGACY), self.cycles,
                                     self.settings.command_timeout * 2, again, report)

    def _classify(self, rec: AgentRecord, screen: str | None, now: float, report: CycleReport) -> None:
        # Tool CPU time moves whenever a tool runs: the stuck check reads it over a window, no compare.
        inputs = (rec.facts.key(), rec.pane.title, rec.pane.dead, rec.pane.width, len(rec.events))
        prev = rec.observation
        same_inputs = inputs == rec.inputs and not rec.hook_pending
        # the title may animate while working: record_keys reads it without its spinner frame
        same_but_title = not rec.hook_pending and inputs[:1] + inputs[2:] == rec.inputs[:1] + rec.inputs[2:]
        kept = self._still_working(rec, prev, screen, now) if same_but_title else None
        if (
            prev is not None
            and prev.verdict.state in TIMELESS_STATES
            and (screen is None or screen == rec.screen)
            and same_inputs
        ):
            # Same screen, same facts, and a state no clock can change: the verdict stands.
            tools = toolcpu.record(prev.tools, rec.facts, now, self.settings.stuck_after)
            observation = prev.again(now, tools)
            report.classify_skipped += 1
        elif kept is not None:
            observation = kept
            rec.inputs = inputs
            report.classify_skipped += 1
        else:
            if screen is not None:
                rec.screen = screen
            observation = classify(rec.screen, rec.pane, rec.facts, prev, self._context(rec, now), self.profiles)
            keys = (record_keys(rec, rec.screen, self._shape(rec))
                    if observation.verdict.state is State.WORKING else None)
            if prev is not None and rec.hash_stale and keys is not None and rec.keys is not None \
                    and keys.progress == rec.keys.progress:
                # Only clocks moved since the last progress seen without classification: unchanged since then.
                observation = replace(observation, unchanged_since=min(observation.unchanged_since,
                                                                       prev.unchanged_since))
            rec.keys, rec.hash_stale = keys, False
            rec.inputs = inputs
        before = prev.verdict.state if prev is not None else None
        old = self.tracker.observe(rec, observation, now)
        due = rec.debouncer.confirm_due()
        if due is not None and self.followable(rec):
            self.confirm_at[rec.view.id] = due
        else:
            self.confirm_at.pop(rec.view.id, None)
        if observation.verdict.state != before and self.on_meaning_changed is not None:
            self.on_meaning_changed(rec.pane.pane_id)
        if old is None:
            old = self.tracker.touch_activity(rec, rec.pane.window_activity)
            if old is not None:
                self.hub.emit(AgentUpdated(old, rec.view))
            return
        update = AgentUpdated(old, rec.view)
        if update.state_changed:
            log.info(
                "%s: %s -> %s%s", rec.view.target, old.state, rec.view.state,
                f" ({rec.view.detail})" if rec.view.detail else "",
            )
            report.transitions.append(update)
        self.hub.emit(update)

    def _shape(self, rec: AgentRecord) -> ScreenShape | None:
        profile = self.profiles.get(rec.view.kind)
        return profile.shape if profile is not None else None

    def _still_working(self, rec: AgentRecord, prev: Observation | None, screen: str | None,
                       now: float) -> Observation | None:
        """The observation of a working agent whose screen changed only in clocks, counters and
        spinner frames: the verdict stands without running the rules. None when the rules must run
        (another meaning, or a screen frozen for half the stuck threshold: the stuck check decides)."""
        if prev is None or prev.verdict.state is not State.WORKING or rec.keys is None:
            return None
        if (screen is not None and screen != rec.screen) or rec.pane.title != rec.inputs[1]:
            keys = record_keys(rec, screen if screen is not None else rec.screen, self._shape(rec))
            if keys.meaning != rec.keys.meaning:
                return None
        else:
            keys = rec.keys
        progressed = keys.progress != rec.keys.progress
        since = now if progressed else prev.unchanged_since
        if now - since >= self.settings.stuck_after / 2:
            return None
        if screen is not None:
            rec.screen = screen
        rec.keys = keys
        rec.hash_stale = rec.hash_stale or progressed
        tools = toolcpu.record(prev.tools, rec.facts, now, self.settings.stuck_after)
        return prev.again(now, tools, unchanged_since=since)

    # --- readings between cycles (driven by tmux's change notifications, see core.follow) ----------
    def followable(self, rec: AgentRecord) -> bool:
        """True when a change may be read at once: a live agent on a non-legacy strategy (the legacy
        strategy stays as it was; crashes are decided by the cycle's process facts)."""
        return (rec.view.strategy != LEGACY and rec.view.strategy in self.strategies and not rec.pane.dead
                and rec.facts.agent_pid is not None and rec.observation is not None)

    def followed_sessions(self) -> set[str]:
        """Session ids (``$3``) holding at least one followable agent."""
        return {rec.pane.session_id for rec in self.tracker.records.values()
                if rec.pane.session_id and self.followable(rec)}

    async def reread(self, pane_ids: set[str]) -> CycleReport:
        """Capture and classify now the followable agents in these panes and those whose new state is
        due for confirmation; states publish as in a cycle (the next cycle's report carries them)."""
        async with self._cycle_lock:
            now = self.clock()
            report = CycleReport(started=now)
            due = {agent_id for agent_id, at in self.confirm_at.items() if at <= now}
            for agent_id in due:
                self.confirm_at.pop(agent_id, None)
            if not self.running or not self.tmux_connected:
                return report
            agents = [rec for rec in self.tracker.records.values()
                      if (rec.pane.pane_id in pane_ids or rec.view.id in due) and self.followable(rec)]
            if not agents:
                return report
            self.rereads += 1
            screens = await self._capture(agents, report, full=True)
            for rec in agents:
                if rec.pane.pane_id in screens:
                    self._classify(rec, screens[rec.pane.pane_id], now, report)
            self._carried.extend(report.transitions)
            return report

    # --- requests from clients -------------------------------------------------------------------
    def report_event(
        self, target: str, event: str, details: Mapping[str, str], server: str = ""
    ) -> AgentView | None:
        """An agent hook told us something about itself (:meth:`HookInbox.report`)."""
        return self.hooks.report(target, event, details, server, self.sockets)

    def hook_target(self, target: str, server: str = "") -> str:
        """The target of a hook from ``server`` as this core names it (:meth:`HookInbox.where`)."""
        return self.hooks.where(target, server, self.sockets)

    def recheck_hook(self, target: str) -> bool:
        """:meth:`HookInbox.recheck`."""
        return self.hooks.recheck(target)

    @property
    def profiles(self) -> Profiles:
        """How each agent kind's screen is read (the catalog's, user rules included)."""
        return self.catalog.profiles

    def uptime(self) -> float:
        """Seconds since the core was built."""
        return self.clock() - self.started_at
