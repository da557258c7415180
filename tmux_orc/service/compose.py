"""The composition root: builds every component from Settings and wires them. No DI framework.

Lifecycle is one AsyncExitStack: what is opened here is closed here, in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from dbus_fast.aio import MessageBus

from tmux_orc.config import Settings
from tmux_orc.core.alerting import AlertDispatcher
from tmux_orc.core.alerts import NotificationManager
from tmux_orc.core.assignment import StrategyAssignment
from tmux_orc.core.autoresume import AutoResume
from tmux_orc.core.follow import follow_changes
from tmux_orc.core.metrics import MetricsCollector
from tmux_orc.core.monitor import CycleReport, MonitorCore
from tmux_orc.core.persistence import Persistence
from tmux_orc.core.plugins import StrategyContext, load_plugins
from tmux_orc.core.recovery import RecoveryManager, policy_from_settings
from tmux_orc.core.rollout import HealthRules, RolloutManager, initial_stage
from tmux_orc.core.service import MonitorService
from tmux_orc.core.statefile import StateStore
from tmux_orc.core.strategy import MonitoringStrategy
from tmux_orc.core.tracker import StateTracker
from tmux_orc.detect.profiles import load_agents
from tmux_orc.model import CONCURRENT_STRATEGY, LEGACY_STRATEGY
from tmux_orc.procfs import ProcessTreeReader, process_states
from tmux_orc.service.channels import ChannelSender
from tmux_orc.service.desktop import DesktopNotifier
from tmux_orc.sockets import WatchedSockets, socket_dir
from tmux_orc.tmux.multiplex import MultiFeed, MultiPaneActions, MultiPaneSource, RoutedStrategy
from tmux_orc.tmux.servers import TmuxServers

log = logging.getLogger(__name__)

# Settings a running daemon keeps until it restarts (they shape connections and components built once).
RESTART_ONLY = ("tmux_socket", "state_dir", "command_timeout", "control_max_in_flight", "spinner_hold",
                "spinner_stream_budget", "strategy_plugins", "new_strategy", "log_format")


@dataclass(slots=True)
class Components:
    """Everything the daemon built, to publish on the bus and to re-tune on reload."""

    service: MonitorService
    bus: MessageBus
    strategies: dict[str, MonitoringStrategy]
    alerts: AlertDispatcher
    metrics: MetricsCollector
    persistence: Persistence
    channels: ChannelSender | None = None

    async def apply_settings(self, settings: Settings) -> Settings:
        """Take new settings at run time (Reload / SIGHUP); returns the settings now in force."""
        old = self.service.settings
        later = [name for name in RESTART_ONLY
                 if getattr(settings, name) != getattr(old, name)]
        if later:
            log.warning("changed settings that take effect at the next restart of the daemon: %s", ", ".join(later))
            settings = settings.model_copy(update={name: getattr(old, name) for name in later})
        self.service.settings = settings
        self.service.core.settings = settings
        self.service.assignment.settings = settings
        self.service.rollout.auto = settings.rollout_auto
        self.service.rollout.rules = _health_rules(settings)
        _retune_policy(self.service.recovery, settings)
        self.service.core.catalog = load_agents(settings.resolved_agents_dir(), settings.rules_file)
        logging.getLogger().setLevel(settings.log_level.upper())
        manager = self.alerts.manager
        manager.cooldown, manager.waiting_after = settings.alert_cooldown, settings.waiting_alert_after
        manager.idle_after, manager.notify_pm = settings.idle_alert_after, settings.notify_pm
        if self.channels is not None:
            self.channels.configure(settings)  # notify_* (the URL file is read again)
        return settings


def _retune_policy(recovery: RecoveryManager, settings: Settings) -> None:
    """New limits for the running policy; its memory (including recoveries in progress) stays as it is."""
    policy = recovery.policy
    policy.confirmations, policy.grace = settings.recovery_confirmations, settings.recovery_grace
    policy.cooldown, policy.max_attempts = settings.recovery_cooldown, settings.recovery_max_attempts
    policy.auto_recover_pm = settings.auto_recover_pm


def _health_rules(settings: Settings) -> HealthRules:
    return HealthRules(promote_after=settings.rollout_promote_after)


@contextlib.asynccontextmanager
async def build_components(settings: Settings, bus: MessageBus) -> AsyncIterator[Components]:
    """Build and wire every component; close them all, in reverse order, on exit."""
    async with contextlib.AsyncExitStack() as stack:
        timeout = settings.command_timeout
        # every tmux server watched, each with its own connections; the core sees one of each port
        watched = WatchedSockets(settings.tmux_socket, socket_dir())
        servers = TmuxServers(watched, command_timeout=timeout, max_in_flight=settings.control_max_in_flight,
                              spinner_hold=settings.spinner_hold, stream_budget=settings.spinner_stream_budget)
        stack.push_async_callback(servers.aclose)
        actions = MultiPaneActions(servers)
        strategies: dict[str, MonitoringStrategy] = {
            LEGACY_STRATEGY: RoutedStrategy(LEGACY_STRATEGY, servers),
            CONCURRENT_STRATEGY: RoutedStrategy(CONCURRENT_STRATEGY, servers),
        }

        def plugin_context(name: str) -> StrategyContext:
            return StrategyContext(name=name, capture_pane=actions.capture_pane, command_timeout=timeout)

        strategies.update(load_plugins(settings.strategy_plugins, plugin_context))
        if settings.new_strategy not in strategies:
            log.error("new_strategy %r is not available (strategies: %s); rollout stages will keep every "
                      "session on polling", settings.new_strategy, ", ".join(strategies))
        for strategy in strategies.values():
            stack.push_async_callback(strategy.aclose)
        source = MultiPaneSource(servers)
        stage = initial_stage(settings.rollout_stage, explicit="rollout_stage" in settings.model_fields_set,
                              new_strategy=settings.new_strategy)
        rollout = RolloutManager(stage=stage, rules=_health_rules(settings), auto=settings.rollout_auto)
        assignment = StrategyAssignment(rollout, settings)
        tracker = StateTracker()
        core = MonitorCore(settings, source, strategies, assignment, ProcessTreeReader(), tracker=tracker,
                           sample_plan=rollout.sampling,  # the cross-check samples less once a stage is proven
                           probe_processes=process_states)  # trees read again only when they may have changed
        core.sockets = watched  # the servers hook events may come from

        channels = ChannelSender(settings)
        stack.push_async_callback(channels.aclose)
        alerts = AlertDispatcher(core, NotificationManager.from_settings(settings), actions, DesktopNotifier(bus),
                                 channels=channels)
        stack.push_async_callback(alerts.aclose)
        recovery = RecoveryManager(core, policy_from_settings(settings), actions, alert=alerts.alert,
                                   on_recovered=[alerts.recovered])
        stack.push_async_callback(recovery.aclose)
        resume = AutoResume(core, actions, alerts.alert, busy=lambda agent_id: agent_id in alerts.submissions)
        persistence = Persistence(StateStore(settings.resolved_state_dir()), tracker, recovery.policy, rollout,
                                  cooldowns=(alerts.manager.memory, alerts.manager.restore))
        metrics = MetricsCollector()
        # change-driven readings between cycles: tmux's %output names the panes that changed
        watch = MultiFeed(servers)

        def metrics_dict() -> dict[str, Any]:
            return {**metrics.as_dict(), **alerts.counters(), "notifications": alerts.manager.counters()["alerts_sent"],
                    "recoveries": recovery.started, "recoveries_started": recovery.started,
                    "recoveries_succeeded": recovery.succeeded, "recoveries_failed": recovery.failed,
                    "state_saves_failed": persistence.saves_failed, "listener_errors": core.hub.listener_errors,
                    **resume.counters(), "rereads": core.rereads, "output_notifications": watch.notifications,
                    "output_changes": watch.changes, "output_holding": watch.holding}

        async def record(report: CycleReport) -> None:
            metrics.record_cycle(report.duration_ms, report.phases)
            metrics.count("transitions", len(report.transitions))
            metrics.count("errors", len(report.errors))
            metrics.count("classify_skipped", report.classify_skipped)
            metrics.count("captured", report.captured)
            metrics_file = core.settings.metrics_file
            if metrics_file is not None:
                by_state = Counter(str(v.state) for v in tracker.views())
                try:
                    metrics.write_prometheus(metrics_file, by_state)
                except OSError as exc:
                    log.warning("cannot write %s: %s", metrics_file, exc)

        # After each cycle, in this order; (hook, touches agents: skipped once monitoring is stopped).
        hooks = [(recovery.on_cycle, True), (alerts.on_cycle, True), (resume.on_cycle, True), (record, False),
                 (persistence.on_cycle, False)]
        service = MonitorService(settings, core, rollout, assignment, recovery, metrics_dict, hooks,
                                 explainers=[resume.explain])
        # Every listener of the core's events, in one place (the D-Bus publisher is the daemon's).
        core.hub.subscribe(alerts.on_event)
        core.hub.subscribe(persistence.on_event)  # persistence.load() is the daemon's, once the name is ours
        servers.on_structure = service.wake  # a window or session came or went: reconcile soon
        service.tmux_servers = servers.infos
        follower = asyncio.create_task(follow_changes(core, watch), name="tmux-orc-follow-changes")

        async def stop_following() -> None:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)  # the feeds close with their servers

        stack.push_async_callback(stop_following)
        stack.callback(persistence.save)
        yield Components(service, bus, strategies, alerts, metrics, persistence, channels)
