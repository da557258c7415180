"""tmux-orcd: the daemon. Settings -> logging -> bus -> components -> name -> state -> first cycle ->
READY=1 -> loop -> shutdown; :meth:`Daemon.run` reads in that order.

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
from dbus_fast.aio import MessageBus
from dbus_fast.errors import DBusError

from tmux_orc import __version__
from tmux_orc.config import ENV_PREFIX, EX_CONFIG, ConfigError, Settings, load_settings
from tmux_orc.core.errors import InvalidArgument
from tmux_orc.core.monitor import CycleReport
from tmux_orc.core.statefile import StateRefused
from tmux_orc.detect.catalog import load_catalog
from tmux_orc.detect.profiles import load_profiles
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


def load_daemon_settings() -> Settings:
    """The settings, and what they name that must load too (the agent definitions, the rules file):
    one ConfigError, one line, either way."""
    settings = load_settings()
    agents_dir = settings.resolved_agents_dir()
    try:
        catalog = load_catalog(agents_dir)
    except ValueError as exc:  # names the file, the key and the value
        raise ConfigError(f"invalid agent definition in {ENV_PREFIX}AGENTS_DIR={str(agents_dir)!r}: {exc}") from None
    try:
        load_profiles(settings.rules_file, catalog.profiles)
    except ValueError as exc:
        raise ConfigError(f"invalid setting {ENV_PREFIX}RULES_FILE={str(settings.rules_file)!r}: {exc}") from None
    return settings


def status_line(components: Components) -> str:
    """The one-line STATUS= summary, ASCII only."""
    service = components.service
    if not service.running:
        return f"stopped (paused by request); {service.agent_count} agents known"
    servers = service.tmux_servers()
    failed = "; ".join(f"{s['name']} ({s['error']})" for s in servers if not s.get("connected"))
    if not service.tmux_connected:
        where = service.core.sockets.where()
        return f"waiting for a tmux server {where}" + (f"; tried {failed}" if failed else "")
    counts = Counter(str(v.state) for v in service.agents())
    states = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none"
    names = ", ".join(str(s["name"]) for s in servers if s.get("connected"))
    return (f"monitoring {sum(counts.values())} agents ({states}); "
            f"cycle {service.last_cycle_ms:.0f} ms; rollout {service.get_rollout_stage()}"
            + (f"; tmux {names}" if names else "") + (f"; not reached: {failed}" if failed else ""))



class Daemon:
    """The daemon's lifecycle: one :meth:`run` from connecting to the bus to the last save."""

    def __init__(self, settings: Settings, notifier: Notifier) -> None:
        self.settings = settings
        self.notifier = notifier
        self.stop_event = asyncio.Event()
        self.components: Components | None = None
        self._last_status = ""
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> int:
        """Connect, publish, own the name, load the state, start, loop, shut down; the exit status."""
        bus = await self._connect()
        if bus is None:
            return EX_UNAVAILABLE
        try:
            async with build_components(self.settings, bus) as components:
                self.components = components
                self._publish(bus, components)
                if not await self._own_name(bus):
                    return EX_UNAVAILABLE
                if not self._load_state(components):
                    return EX_CONFIG
                await self._start(components)
                status = await self._main_loop(bus, components)
                log.info("tmux-orcd stopping")
                return status
        finally:
            bus.disconnect()

    async def _connect(self) -> GuardedBus | None:
        try:
            return await GuardedBus(bus_type=BusType.SESSION).connect()
        except (OSError, ValueError, DBusError) as exc:
            address = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "(DBUS_SESSION_BUS_ADDRESS is not set)")
            log.error("cannot connect to the session bus %s: %s", address, exc)
            return None

    def _publish(self, bus: GuardedBus, components: Components) -> None:
        """The Monitor1 object, the agent objects, the publisher that keeps them current, and the
        guards in front of every call."""
        monitor = MonitorInterface(components.service, self.reload)
        components.service.hub.subscribe(BusPublisher(monitor, AgentObjects(bus)))
        bus.export(names.OBJECT_PATH, monitor)
        limiter = CallLimiter(backlog=bus.backlog)  # first handler: a flood is answered Busy before any work
        bus.on_reply_sent = limiter.reply_sent
        bus.add_message_handler(limiter.handle)
        bus.add_message_handler(signature_guard(monitor, names.OBJECT_PATH))

    async def _own_name(self, bus: MessageBus) -> bool:
        """The bus name is the single-instance lock: a second daemon gives up here."""
        reply = await bus.request_name(names.BUS_NAME, NameFlag.DO_NOT_QUEUE)
        if reply in (RequestNameReply.PRIMARY_OWNER, RequestNameReply.ALREADY_OWNER):
            return True
        log.error("another tmux-orcd already owns %s on this bus; not starting a second one", names.BUS_NAME)
        return False

    def _load_state(self, components: Components) -> bool:
        """Only the name's owner reads (and later writes) the state file."""
        try:
            components.persistence.load()
        except (StateRefused, OSError) as exc:
            log.error("cannot use the state directory %s: %s", self.settings.resolved_state_dir(), exc)
            return False
        return True

    async def _start(self, components: Components) -> None:
        """Signal handlers, the first cycle, then READY=1."""
        self._install_signal_handlers()
        await components.service.run_once()
        self.notifier.ready(status_line(components))
        log.info("tmux-orcd %s ready on %s (tmux: %s, interval %.1fs)", __version__,
                 names.BUS_NAME, components.service.core.sockets.describe(), self.settings.interval)

    async def _main_loop(self, bus: MessageBus, components: Components) -> int:
        """Cycles until SIGTERM/SIGINT (exit 0) or until the bus goes away (exit 1)."""
        loop_task = asyncio.create_task(
            components.service.run(self._on_turn, self.stop_event, self.notifier.watchdog_interval))
        bus_gone = asyncio.create_task(bus.wait_for_disconnect())  # type: ignore[no-untyped-call]
        done, _ = await asyncio.wait({loop_task, bus_gone}, return_when=asyncio.FIRST_COMPLETED)
        bus_gone.cancel()
        if bus_gone in done and not bus_gone.cancelled():
            bus_gone.exception()  # an EOFError when the bus went away: it is reported below
        self.notifier.stopping()
        lost_bus = bus_gone in done
        if lost_bus:
            log.error("lost the session bus connection; exiting")
            self.stop_event.set()
        await loop_task
        error = loop_task.exception()
        if error is not None:
            raise error
        return EX_UNAVAILABLE if lost_bus else 0

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
        except Exception:  # a signal-driven reload has no caller to raise to; logged whole
            log.exception("reload failed; the running settings stay in force")

    async def reload(self) -> None:
        """Re-read settings (SIGHUP, Reload()); an invalid file keeps the running settings."""
        self.notifier.reloading()
        try:
            try:
                settings = load_daemon_settings()
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
        settings = load_daemon_settings()
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
