"""MonitorService: the facade every client request goes through, and the loop that runs the cycles.

It owns the core and the components acting on each cycle (rollout, alerts, recovery, persistence,
metrics). The D-Bus object calls nothing else; tests call it directly without a bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from tmux_orc import __version__, sockets
from tmux_orc.config import Settings
from tmux_orc.core.assignment import StrategyAssignment
from tmux_orc.core.errors import InvalidArgument, NotFound, NotRunning
from tmux_orc.core.events import RolloutStageChanged, StatusChanged
from tmux_orc.core.monitor import CycleReport, MonitorCore
from tmux_orc.core.recovery import RecoveryManager
from tmux_orc.core.rollout import LEGACY, OPERATOR_REASON, HealthSample, RolloutCause, RolloutManager
from tmux_orc.core.tracker import AgentSnapshot
from tmux_orc.detect import toolcpu
from tmux_orc.model import AgentView, RolloutStage
from tmux_orc.payloads import AgentKindInfo, ExplainedFacts, Explanation, RolloutInfo, Status

log = logging.getLogger(__name__)

CycleHook = Callable[[CycleReport], Awaitable[None]]
Explainer = Callable[[str], Mapping[str, Any]]  # agent id -> Explanation fields it fills
MIN_CYCLE_GAP = 0.25  # seconds
# After a hook event, look at its pane again this long after it (the screen often lags the hook).
HOOK_RECHECKS = (1.0, 3.0)


class MonitorService:
    """The facade over the core: the loop, and every request a client can make.

    ``hooks`` run after every cycle, in order, as ``(hook, touches_agents)``: a hook that touches
    agents (types into panes, spawns, kills) is skipped when monitoring was stopped while the cycle
    ran, so no agent is touched while stopped.
    """

    def __init__(
        self,
        settings: Settings,
        core: MonitorCore,
        rollout: RolloutManager,
        assignment: StrategyAssignment,
        recovery: RecoveryManager,
        metrics: Callable[[], dict[str, Any]],
        hooks: Iterable[tuple[CycleHook, bool]] = (),
        explainers: Iterable[Explainer] = (),
    ) -> None:
        self.settings = settings
        self.core = core
        self.rollout = rollout
        self.assignment = assignment
        self.recovery = recovery
        self._metrics = metrics
        self.hub = core.hub
        self.version = __version__
        self._hooks = list(hooks)
        self.explainers = list(explainers)  # more Explain fields per agent id (auto-resume's)
        self._wake = asyncio.Event()
        self._rechecks: dict[str, list[asyncio.TimerHandle]] = {}  # hook target -> its pending re-checks
        self.errors = 0
        # GetStatus ``tmux_servers``: each tmux server watched, whether it answers and why not (compose's)
        self.tmux_servers: Callable[[], list[dict[str, Any]]] = list

    # --- what the core shows -----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Are cycles running (not paused by Stop)?"""
        return self.core.running

    @property
    def tmux_connected(self) -> bool:
        """Did the last cycle reach the tmux server?"""
        return self.core.tmux_connected

    @property
    def last_cycle_ms(self) -> float:
        """How long the last cycle took."""
        return self.core.last_cycle_ms

    @property
    def agent_count(self) -> int:
        """How many agents are known."""
        return self.core.tracker.count()

    # --- the loop --------------------------------------------------------------------------------

    async def run_once(self) -> CycleReport | None:
        """One turn of the loop: a cycle when running, nothing when stopped."""
        if not self.core.running:
            return None
        report = await self.core.run_cycle()
        self.errors += len(report.errors)
        self._feed_rollout(report)
        for hook, touches_agents in self._hooks:
            # Each hook goes over every agent; most never wait on anything, so without this turn of the
            # loop they would run as one block (several ms at 500 agents) while clients' calls wait.
            await asyncio.sleep(0)
            if touches_agents and not self.core.running:
                continue
            try:
                await hook(report)
            except Exception:  # one component's bug must not stop the others; logged whole
                self.errors += 1
                log.exception("cycle hook %s failed", getattr(hook, "__qualname__", hook))
        return report

    async def run(self, on_turn: Callable[[CycleReport | None], None], stop: asyncio.Event,
                  heartbeat: float | None = None) -> None:
        """Turn until ``stop`` is set. ``on_turn`` is called after each turn, and at least every
        ``heartbeat`` seconds while waiting for the next one (the watchdog is fed from there only)."""
        while not stop.is_set():
            started = time.monotonic()
            self._wake.clear()  # a request arriving during this cycle still brings the next one forward
            report = await self.run_once()
            on_turn(report)
            while not stop.is_set() and not self._wake.is_set():
                delay = self.settings.interval - (time.monotonic() - started)
                if delay <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=min(delay, heartbeat or delay))
                if heartbeat and not self._wake.is_set() and time.monotonic() - started < self.settings.interval:
                    on_turn(None)
            # A wake-up (a client request) brings the next cycle forward, but never closer than this:
            # a flood of requests cannot turn the loop into a busy one.
            gap = min(self.settings.interval, max(MIN_CYCLE_GAP, self.settings.interval / 4))
            rest = gap - (time.monotonic() - started)
            if rest > 0 and not stop.is_set():
                await asyncio.sleep(rest)

    def wake(self) -> None:
        """Bring the next cycle forward (a client asked for something)."""
        self._wake.set()

    # --- rollout ---------------------------------------------------------------------------------
    def _feed_rollout(self, report: CycleReport) -> None:
        if not report.tmux_connected:
            return  # no tmux, no evidence about any strategy
        new_name = self.settings.new_strategy
        views = self.core.tracker.views()
        panes_new = sum(1 for v in views if v.strategy == new_name)
        panes_old = sum(1 for v in views if v.strategy == LEGACY)
        ms_new = report.strategy_ms.get(new_name)
        ms_old = report.strategy_ms.get(LEGACY)
        sample = HealthSample(
            panes=panes_new,
            errors=report.strategy_errors.get(new_name, 0),
            ms_per_pane=(ms_new / panes_new) if ms_new is not None and panes_new else 0.0,
            legacy_ms_per_pane=(ms_old / panes_old) if ms_old is not None and panes_old else None,
            sampled=report.sampled,
            disagreements=report.disagreements,
        )
        old = self.rollout.stage
        decision = self.rollout.feed(sample)
        if decision is not None:
            log.warning("rollout %s -> %s: %s", old, decision.new_stage, decision.reason)
            self.hub.emit(RolloutStageChanged(str(old), str(decision.new_stage), decision.reason, decision.cause))

    def get_rollout_stage(self) -> str:
        """The stage in force."""
        return str(self.rollout.stage)

    def set_rollout_stage(self, stage: str) -> str:
        """The operator's stage; returns the previous one."""
        try:
            wanted = RolloutStage(stage)
        except ValueError:
            allowed = ", ".join(s.value for s in RolloutStage)
            raise InvalidArgument(f"unknown rollout stage {stage!r}: expected one of {allowed}") from None
        previous = self.rollout.set_stage(wanted)
        if previous != wanted:
            log.info("rollout stage %s -> %s (%s)", previous, wanted, OPERATOR_REASON)
            self.hub.emit(RolloutStageChanged(str(previous), str(wanted), OPERATOR_REASON, RolloutCause.OPERATOR))
        self.wake()
        return str(previous)

    def rollout_info(self) -> RolloutInfo:
        """GetRollout: the stage, fractions, assignment and health figures."""
        return RolloutInfo(
            stage=str(self.rollout.stage),
            auto=self.rollout.auto,
            frozen=self.rollout.frozen,
            canary_fraction=self.settings.rollout_canary_fraction,
            partial_fraction=self.settings.rollout_partial_fraction,
            new_strategy=self.settings.new_strategy,
            sessions=dict(sorted(self.assignment.current.items())),
            health=self.rollout.figures(),
            last_reason=self.rollout.last_reason,
            last_decision_health=dict(self.rollout.last_figures),
            rules={k: float(v) for k, v in dataclasses.asdict(self.rollout.rules).items()},
        )

    # --- requests --------------------------------------------------------------------------------
    def start(self) -> None:
        """Resume cycles."""
        if not self.core.running:
            log.info("monitoring started")
        self.core.running = True
        self.hub.emit(StatusChanged())
        self.wake()

    def stop(self) -> None:
        """Pause cycles and cancel recoveries in progress: no agent is touched while stopped."""
        if self.core.running:
            log.info("monitoring stopped; no agent is touched until started again")
        self.core.running = False
        self.recovery.cancel_all()
        self.hub.emit(StatusChanged())

    def status(self) -> Status:
        """GetStatus."""
        return Status(
            running=self.core.running,
            rollout_stage=str(self.rollout.stage),
            strategy=self.assignment.summary(),
            agents=self.core.tracker.count(),
            cycles=self.core.cycles,
            last_cycle_ms=self.core.last_cycle_ms,
            tmux_connected=self.core.tmux_connected,
            uptime_s=self.core.uptime(),
            version=self.version,
            interval_s=self.settings.interval,
            tmux_socket=", ".join(sockets.entries(self.settings.tmux_socket)),
            tmux_error=self._tmux_error(),
            tmux_servers=self.tmux_servers(),
        )

    def _tmux_error(self) -> str:
        """Why no tmux server is reached ("" while connected), with the core's reason."""
        if self.core.tmux_connected:
            return ""
        reason = self.core.tmux_error
        return f"no tmux server answers {self.core.sockets.where()}" + (f": {reason}" if reason else "")

    def agent_kinds(self) -> list[AgentKindInfo]:
        """The agent definitions in use, in matching order, and where each came from."""
        catalog = self.core.catalog
        kinds = []
        for d in catalog.definitions.values():
            profile = catalog.profiles.get(d.name)
            kinds.append(AgentKindInfo(
                name=d.name, description=d.description, source=d.source,
                programs=sorted(d.program.names | set(d.program.prefixes)) if d.program else [],
                resume=d.resume, hooks=list(d.hooks), rules=len(profile.rules) if profile else 0,
            ))
        return kinds

    def agents(self) -> list[AgentView]:
        """Every agent's published view."""
        return self.core.tracker.views()

    def _find(self, target: str) -> AgentSnapshot:
        rec = self.core.tracker.find_snapshot(_checked_target(target))
        if rec is None:
            raise NotFound(f"no agent matches {target!r} (try `tmux-orc agents`)")
        return rec

    def get_agent(self, target: str) -> AgentView:
        """One agent by id, ``session:window``, ``session:window.pane`` or ``%N``."""
        return self._find(target).view

    def explain(self, target: str) -> Explanation:
        """Why the agent has its state: the rule, its evidence, and the facts it was decided from."""
        rec = self._find(target)
        view, obs, facts = rec.view, rec.observation, rec.facts
        explanation = Explanation(
            id=view.id,
            target=view.target,
            state=str(view.state),
            detail=view.detail,
            rule=obs.verdict.rule if obs else "",
            evidence=list(obs.verdict.evidence) if obs else [],
            observed_state=str(obs.verdict.state) if obs else "",
            observed_at=obs.at if obs else 0.0,
            unchanged_since=obs.unchanged_since if obs else 0.0,
            confirmations=rec.streak,
            facts=ExplainedFacts(
                kind=str(facts.kind),
                agent_pid=facts.agent_pid or 0,
                stopped=facts.stopped,
                shell_in_foreground=facts.shell_in_foreground,
                commands=list(facts.commands),
                tool_cpu_seconds=round(facts.tool_cpu_seconds or 0.0, 2),
                tool_cpu_share=round(toolcpu.busy_share(obs.tools, facts, obs.at) or 0.0, 3) if obs else 0.0,
                pane_dead=rec.pane.dead,
                pane_title=rec.pane.title,
                current_command=rec.pane.current_command,
            ),
            hook_events=[f"{e.event}@{e.at:.0f}" for e in rec.events],
        )
        extra = {key: value for explainer in self.explainers for key, value in explainer(view.id).items()}
        return dataclasses.replace(explanation, **extra)

    def recover(self, target: str, options: Mapping[str, Any]) -> str:
        """Start a recovery of ``target``; returns its id at once (the outcome comes as an event)."""
        if not self.core.running:
            raise NotRunning("monitoring is stopped: `tmux-orc monitor start` first (no agent is touched "
                             "while stopped)")
        return self.recovery.request(_checked_target(target), options)

    def metrics(self) -> dict[str, Any]:
        """GetMetrics."""
        return self._metrics()

    def report_event(self, target: str, event: str, details: Mapping[str, str], server: str = "") -> None:
        """An agent hook's report about itself (``server``: the tmux socket the hook ran under)."""
        if not event or len(event) > 64 or not event.replace("_", "").replace("-", "").isalnum():
            raise InvalidArgument(f"invalid event name {event!r}: letters, digits, '-' and '_' only")
        try:
            self.core.report_event(_checked_target(target), event, details, server)
            target = self.core.hook_target(target, server)  # on the hook's own server: re-checked there
        except LookupError as exc:
            raise NotFound(str(exc)) from None
        self.wake()
        with contextlib.suppress(RuntimeError):  # no running loop (a test calling this directly)
            loop = asyncio.get_running_loop()
            for handle in self._rechecks.pop(target, ()):
                handle.cancel()  # a newer event of the same pane: its own re-checks replace these
            last = len(HOOK_RECHECKS) - 1
            self._rechecks[target] = [
                loop.call_later(delay, self._recheck_hook, target, index == last)
                for index, delay in enumerate(HOOK_RECHECKS)
            ]

    def _recheck_hook(self, target: str, last: bool) -> None:
        if last:
            self._rechecks.pop(target, None)
        if self.core.recheck_hook(target):
            self.wake()


def _checked_target(target: str) -> str:
    if not target or len(target) > 512 or any(ord(c) < 32 for c in target):
        raise InvalidArgument(f"invalid target {target[:40]!r}: expected an agent id, session:window, "
                              "session:window.pane or %N")
    return target
