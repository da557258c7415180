"""tmux-orcd: the daemon. Settings -> logging -> bus -> components -> first cycle -> READY=1 -> loop.

Exit statuses: 0 clean stop, 1 cannot run (no bus, name taken), 78 invalid settings (EX_CONFIG:
systemd's RestartPreventExitStatus keeps it from restarting in a loop).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections import Counter

from dbus_fast import BusType, NameFlag, RequestNameReply
from dbus_fast.errors import DBusError

from tmux_orc import __version__
from tmux_orc.config import EX_CONFIG, ConfigError, Settings, load_settings
from tmux_orc.core.errors import InvalidArgument
from tmux_orc.core.monitor import CycleReport
from tmux_orc.core.statefile import StateRefused
from tmux_orc.service import names
from tmux_orc.service.bus import GuardedBus
from tmux_orc.service.compose import Components, build_components
from tmux_orc.service.dbus_agents import AgentObjects
from tmux_orc.service.dbus_guard import CallLimiter, signature_guard
from tmux_orc.service.dbus_monitor import MonitorInterface
from tmux_orc.service.dbus_publisher import BusPublisher
from tmux_orc.service.logs import setup_logging
from tmux_orc.service.sdnotify import Notifier

log = logging.getLogger("tmux_orc.daemon")

EX_UNAVAILABLE = 1


def status_line(components: Components) -> str:
    """The one-line STATUS= summary, ASCII only."""
    service = components.service
    if not service.core.running:
        return f"stopped (paused by request); {len(service.core.tracker.records)} agents known"
    if not service.core.tmux_connected:
        return "waiting for the tmux server" + (f" at {service.settings.tmux_socket}"
                                               if service.settings.tmux_socket else "")
    counts = Counter(str(v.state) for v in service.agents())
    states = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none"
    return (f"monitoring {sum(counts.values())} agents ({states}); "
            f"cycle {service.core.last_cycle_ms:.0f} ms; rollout {service.get_rollout_stage()}")


class Daemon:
    def __init__(self, settings: Settings, notifier: Notifier) -> None:
        self.settings = settings
        self.notifier = notifier
        self.stop_event = asyncio.Event()
        self.components: Components | None = None
        self._last_status = ""
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> int:
        try:
            bus = await GuardedBus(bus_type=BusType.SESSION).connect()
        except (OSError, ValueError, DBusError) as exc:
            address = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "(DBUS_SESSION_BUS_ADDRESS is not set)")
            log.error("cannot connect to the session bus %s: %s", address, exc)
            return EX_UNAVAILABLE
        async with build_components(self.settings, bus) as components:
            self.components = components
            monitor = MonitorInterface(components.service, self.reload)
            agents = AgentObjects(bus)
            components.service.hub.subscribe(BusPublisher(monitor, agents))
            bus.export(names.OBJECT_PATH, monitor)
            limiter = CallLimiter(backlog=bus.backlog)  # first handler: a flood is answered Busy before any work
            bus.on_reply_sent = limiter.reply_sent
            bus.add_message_handler(limiter.handle)
            bus.add_message_handler(signature_guard(monitor, names.OBJECT_PATH))

            reply = await bus.request_name(names.BUS_NAME, NameFlag.DO_NOT_QUEUE)
            if reply not in (RequestNameReply.PRIMARY_OWNER, RequestNameReply.ALREADY_OWNER):
                log.error("another tmux-orcd already owns %s on this bus; not starting a second one",
                          names.BUS_NAME)
                bus.disconnect()
                return EX_UNAVAILABLE
            try:
                components.persistence.load()
            except (StateRefused, OSError) as exc:
                log.error("cannot use the state directory %s: %s", self.settings.resolved_state_dir(), exc)
                bus.disconnect()
                return EX_CONFIG

            self._install_signal_handlers()
            await components.service.run_once()
            self.notifier.ready(status_line(components))
            log.info("tmux-orcd %s ready on %s (tmux socket: %s, interval %.1fs)", __version__,
                     names.BUS_NAME, self.settings.tmux_socket or "default", self.settings.interval)
            loop_task = asyncio.create_task(
                components.service.run(self._on_turn, self.stop_event, self.notifier.watchdog_interval))
            bus_gone = asyncio.create_task(bus.wait_for_disconnect())  # type: ignore[no-untyped-call]
            done, _ = await asyncio.wait({loop_task, bus_gone}, return_when=asyncio.FIRST_COMPLETED)
            bus_gone.cancel()
            if bus_gone in done and not bus_gone.cancelled():
                bus_gone.exception()  # an EOFError when the bus went away: it is reported below
            self.notifier.stopping()
            if bus_gone in done:
                log.error("lost the session bus connection; exiting")
                self.stop_event.set()
            await loop_task
            if loop_task.exception() is not None:
                raise loop_task.exception()  # type: ignore[misc]
            log.info("tmux-orcd stopping")
        bus.disconnect()
        return 0 if bus_gone not in done else EX_UNAVAILABLE

    def _on_turn(self, report: CycleReport | None) -> None:
        """Called after every turn of the loop: the only place the watchdog is fed."""
        self.notifier.watchdog()
        if self.components is not None:
            line = status_line(self.components)
            if line != self._last_status:
                self._last_status = line
                self.notifier.status(line)

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self._request_stop, "SIGTERM")
        loop.add_signal_handler(signal.SIGINT, self._request_stop, "SIGINT")
        loop.add_signal_handler(signal.SIGHUP, self._reload_in_background)

    def _request_stop(self, why: str) -> None:
        log.info("%s received: stopping", why)
        self.notifier.stopping()
        self.stop_event.set()
        if self.components is not None:
            self.components.service.wake()

    def _reload_in_background(self) -> None:
        task = asyncio.create_task(self._reload_logged())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reload_logged(self) -> None:
        try:
            await self.reload()
        except InvalidArgument:
            pass  # already logged; the old settings stay in force
        except Exception:
            log.exception("reload failed; the running settings stay in force")

    async def reload(self) -> None:
        """Re-read settings (SIGHUP, Reload()); an invalid file keeps the running settings."""
        self.notifier.reloading()
        try:
            try:
                settings = load_settings()
            except ConfigError as exc:
                log.error("reload refused, keeping the running settings: %s", exc)
                raise InvalidArgument(f"reload refused: {exc}") from None
            if self.components is not None:
                settings = await self.components.apply_settings(settings)
            self.settings = settings
            log.info("settings reloaded")
        finally:
            if self.components is not None:
                self.notifier.ready(status_line(self.components))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tmux-orcd", description="tmux-orc monitoring daemon (D-Bus service)")
    parser.add_argument("--version", action="version", version=f"tmux-orcd {__version__}")
    parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        prefix = "<3>" if os.environ.get("JOURNAL_STREAM") else ""
        print(f"{prefix}tmux-orcd: {exc}", file=sys.stderr, flush=True)
        return EX_CONFIG
    setup_logging(settings.resolved_log_format(), settings.log_level)
    notifier = Notifier()
    try:
        return asyncio.run(Daemon(settings, notifier).run())
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
