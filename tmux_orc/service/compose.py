"""The composition root: builds every component from Settings and wires them. No DI framework.

Lifecycle is one AsyncExitStack: what is opened here is closed here, in reverse order.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from dbus_fast.aio import MessageBus

from tmux_orc.config import Settings
from tmux_orc.core.monitor import MonitorCore
from tmux_orc.core.recovery import RecoveryManager, policy_from_settings
from tmux_orc.core.rollout import HealthRules, RolloutManager
from tmux_orc.core.service import MonitorService
from tmux_orc.core.strategy import MonitoringStrategy
from tmux_orc.core.tracker import StateTracker
from tmux_orc.tmux.polling import PollingStrategy, SubprocessPaneSource

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Components:
    service: MonitorService
    bus: MessageBus
    strategies: dict[str, MonitoringStrategy] = field(default_factory=dict)

    async def apply_settings(self, settings: Settings) -> None:
        """Take new settings at run time (Reload / SIGHUP)."""
        old = self.service.settings
        if settings.tmux_socket != old.tmux_socket:
            log.warning("tmux_socket changed; it takes effect at the next restart of the daemon")
        self.service.settings = settings
        self.service.core.settings = settings
        self.service.rollout.auto = settings.rollout_auto
        self.service.rollout.rules = _health_rules(settings)


def _health_rules(settings: Settings) -> HealthRules:
    return HealthRules(promote_after=settings.rollout_promote_after)


@contextlib.asynccontextmanager
async def build_components(settings: Settings, bus: MessageBus) -> AsyncIterator[Components]:
    async with contextlib.AsyncExitStack() as stack:
        socket = settings.tmux_socket
        strategies: dict[str, MonitoringStrategy] = {
            "polling": PollingStrategy(socket, settings.command_timeout),
        }
        for strategy in strategies.values():
            stack.push_async_callback(strategy.aclose)
        source = SubprocessPaneSource(socket, settings.command_timeout)
        rollout = RolloutManager(stage=settings.rollout_stage, rules=_health_rules(settings),
                                 auto=settings.rollout_auto)
        core = MonitorCore(
            settings,
            source,
            strategies,
            assign_strategies=lambda sessions: {},
            tracker=StateTracker(),
        )
        recovery = RecoveryManager(core, policy_from_settings(settings))
        stack.push_async_callback(recovery.aclose)

        def metrics() -> dict[str, object]:
            return {"cycles": core.cycles, "cycle_ms_p50": core.last_cycle_ms, "cycle_ms_p95": core.last_cycle_ms,
                    "cycle_ms_max": core.last_cycle_ms, "rss_bytes": 0}

        service = MonitorService(settings, core, rollout, recovery, metrics)
        service.add_cycle_hook(recovery.on_cycle)
        yield Components(service=service, bus=bus, strategies=strategies)
