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
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from tmux_orc import __version__
from tmux_orc.config import Settings
from tmux_orc.core.errors import InvalidArgument, NotFound, NotRunning
from tmux_orc.core.events import RolloutStageChanged, StatusChanged
from tmux_orc.core.monitor import CycleReport, MonitorCore
from tmux_orc.core.recovery import RecoveryManager
from tmux_orc.core.rollout import LEGACY, HealthSample, RolloutManager, sessions_on_new, stage_fraction
from tmux_orc.detect import toolcpu
from tmux_orc.model import AgentView, RolloutStage

log = logging.getLogger(__name__)

CycleHook = Callable[[CycleReport], Awaitable[None]]
MIN_CYCLE_GAP = 0.25  # seconds
# After a hook event, look at its pane again this long after it (the screen often lags the hook).
HOOK_RECHECKS = (1.0, 3.0)


class MonitorService:
    def __init__(
        self,
        settings: Settings,
        core: MonitorCore,
        rollout: RolloutManager,
        recovery: RecoveryManager,
        metrics: Callable[[], dict[str, Any]],
    ) -> None:
        self.settings = settings
        self.core = core
        self.rollout = rollout
        self.recovery = recovery
        self._metrics = metrics
        self.hub = core.hub
        self.version = __version__
        self._assignment: dict[str, str] = {}
        self._hooks: list[tuple[CycleHook, bool]] = []
        self._wake = asyncio.Event()
        self._rechecks: dict[str, list[asyncio.TimerHandle]] = {}  # hook target -> its pending re-checks
        self.core.assign_strategies = self._assign
        self.errors = 0

    # --- the loop --------------------------------------------------------------------------------
    def add_cycle_hook(self, hook: CycleHook, *, touches_agents: bool = False) -> None:
        """Run ``hook(report)`` after every cycle (alerts, recovery, persistence, metrics).

        A hook that ``touches_agents`` (types into panes, spawns, kills) is skipped when monitoring was
        stopped while the cycle ran: no agent is touched while stopped.
        """
        self._hooks.append((hook, touches_agents))

    async def run_once(self) -> CycleReport | None:
        """One turn of the loop: a cycle when running, nothing when stopped."""
        if not self.core.running:
            return None
        report = await self.core.run_cycle()
        self.errors += len(report.errors)
        self._feed_rollout(report)
        for hook, touches_agents in self._hooks:
            if touches_agents and not self.core.running:
                continue
            try:
                await hook(report)
            except Exception:
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
        self._wake.set()

    # --- rollout ---------------------------------------------------------------------------------
    def _assign(self, sessions: set[str]) -> dict[str, str]:
        fraction = stage_fraction(
            self.rollout.stage, self.settings.rollout_canary_fraction, self.settings.rollout_partial_fraction
        )
        new = sessions_on_new(sessions, fraction)
        self._assignment = {s: (self.settings.new_strategy if s in new else LEGACY) for s in sessions}
        return self._assignment

    def _feed_rollout(self, report: CycleReport) -> None:
        if not report.tmux_connected:
            return  # no tmux, no evidence about any strategy
        new_name = self.settings.new_strategy
        panes_new = sum(1 for a in self.core.tracker.records.values() if a.view.strategy == new_name)
        panes_old = sum(1 for a in self.core.tracker.records.values() if a.view.strategy == LEGACY)
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
            self.hub.emit(RolloutStageChanged(str(old), str(decision.new_stage), decision.reason))

    def get_rollout_stage(self) -> str:
        return str(self.rollout.stage)

    def set_rollout_stage(self, stage: str) -> str:
        try:
            wanted = RolloutStage(stage)
        except ValueError:
            allowed = ", ".join(s.value for s in RolloutStage)
            raise InvalidArgument(f"unknown rollout stage {stage!r}: expected one of {allowed}") from None
        previous = self.rollout.set_stage(wanted)
        if previous != wanted:
            log.info("rollout stage %s -> %s (set by operator)", previous, wanted)
            self.hub.emit(RolloutStageChanged(str(previous), str(wanted), "set by operator"))
        self.wake()
        return str(previous)

    def rollout_info(self) -> dict[str, Any]:
        return {
            "stage": str(self.rollout.stage),
            "auto": self.rollout.auto,
            "frozen": self.rollout.frozen,
            "canary_fraction": self.settings.rollout_canary_fraction,
            "partial_fraction": self.settings.rollout_partial_fraction,
            "new_strategy": self.settings.new_strategy,
            "sessions": dict(sorted(self._assignment.items())),
            "health": self.rollout.figures(),
            "last_reason": self.rollout.last_reason,
            "last_decision_health": self.rollout.last_figures,
            "rules": {k: float(v) for k, v in dataclasses.asdict(self.rollout.rules).items()},
        }

    # --- requests --------------------------------------------------------------------------------
    def start(self) -> None:
        if not self.core.running:
            log.info("monitoring started")
        self.core.running = True
        self.hub.emit(StatusChanged())
        self.wake()

    def stop(self) -> None:
        if self.core.running:
            log.info("monitoring stopped; no agent is touched until started again")
        self.core.running = False
        self.recovery.cancel_all()
        self.hub.emit(StatusChanged())

    def status(self) -> dict[str, Any]:
        return {
            "running": self.core.running,
            "rollout_stage": str(self.rollout.stage),
            "strategy": self._strategy_summary(),
            "agents": len(self.core.tracker.records),
            "cycles": self.core.cycles,
            "last_cycle_ms": self.core.last_cycle_ms,
            "tmux_connected": self.core.tmux_connected,
            "uptime_s": self.core.uptime(),
            "version": self.version,
            "interval_s": self.settings.interval,
            "tmux_socket": self.settings.tmux_socket or "",
        }

    def _strategy_summary(self) -> str:
        used = sorted({v for v in self._assignment.values()}) or [LEGACY]
        return "+".join(used)

    def agents(self) -> list[AgentView]:
        return self.core.tracker.views()

    def get_agent(self, target: str) -> AgentView:
        rec = self.core.tracker.find(_checked_target(target))
        if rec is None:
            raise NotFound(f"no agent matches {target!r} (try `tmux-orc agents`)")
        return rec.view

    def explain(self, target: str) -> dict[str, Any]:
        """Why the agent has its state: the rule, its evidence, and the facts it was decided from."""
        view = self.get_agent(target)
        rec = self.core.tracker.records[view.id]
        obs = rec.observation
        facts = rec.facts
        return {
            "id": view.id,
            "target": view.target,
            "state": str(view.state),
            "detail": view.detail,
            "rule": obs.verdict.rule if obs else "",
            "evidence": list(obs.verdict.evidence) if obs else [],
            "observed_state": str(obs.verdict.state) if obs else "",
            "observed_at": obs.at if obs else 0.0,
            "unchanged_since": obs.unchanged_since if obs else 0.0,
            "confirmations": rec.debouncer.streak(),
            "facts": {
                "kind": str(facts.kind),
                "agent_pid": facts.agent_pid or 0,
                "stopped": facts.stopped,
                "shell_in_foreground": facts.shell_in_foreground,
                "commands": list(facts.commands),
                "tool_cpu_seconds": round(facts.tool_cpu_seconds or 0.0, 2),
                "tool_cpu_share": round(toolcpu.busy_share(obs.tools, facts, obs.at) or 0.0, 3) if obs else 0.0,
                "pane_dead": rec.pane.dead,
                "pane_title": rec.pane.title,
                "current_command": rec.pane.current_command,
            },
            "hook_events": [f"{e.event}@{e.at:.0f}" for e in rec.events],
        }

    def recover(self, target: str, options: Mapping[str, Any]) -> str:
        if not self.core.running:
            raise NotRunning("monitoring is stopped: `tmux-orc monitor start` first (no agent is touched "
                             "while stopped)")
        return self.recovery.request(_checked_target(target), options)

    def metrics(self) -> dict[str, Any]:
        return self._metrics()

    def report_event(self, target: str, event: str, details: Mapping[str, str], server: str = "") -> None:
        if not event or len(event) > 64 or not event.replace("_", "").replace("-", "").isalnum():
            raise InvalidArgument(f"invalid event name {event!r}: letters, digits, '-' and '_' only")
        try:
            self.core.report_event(_checked_target(target), event, details, server)
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
