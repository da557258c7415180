"""Plugin monitoring strategies from the entry-point group ``tmux_orc.strategies``.

A plugin is loaded only when its entry-point name is in the ``strategy_plugins`` allow-list. Its entry
point is a factory called with a read-only :class:`StrategyContext`; what it returns must satisfy the
:class:`~tmux_orc.core.strategy.MonitoringStrategy` protocol (a ``name`` and async ``capture`` and
``aclose``), or it is refused with one clear log line and never used. The monitor runs a plugin under
the same timeouts as the built-in strategies, and rolls it out by the same stages.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from tmux_orc.core.strategy import MonitoringStrategy
from tmux_orc.model import CONCURRENT_STRATEGY, LEGACY_STRATEGY

log = logging.getLogger(__name__)

GROUP = "tmux_orc.strategies"
RESERVED = frozenset({LEGACY_STRATEGY, CONCURRENT_STRATEGY})


@dataclass(frozen=True, slots=True)
class StrategyContext:
    """All a plugin gets: reading a pane's screen, and the timeout it is held to. Nothing that writes."""

    name: str
    capture_pane: Callable[[str], Awaitable[str]]  # pane id (%N) -> visible screen text
    command_timeout: float


class PluginRefused(Exception):
    """A strategy plugin failed the protocol check; the message says how (logged, and the plugin skipped)."""


def _check(name: str, strategy: object) -> MonitoringStrategy:
    if not isinstance(strategy, MonitoringStrategy):
        missing = [a for a in ("name", "capture", "aclose") if not hasattr(strategy, a)]
        raise PluginRefused(f"does not satisfy the strategy protocol (missing: {', '.join(missing)})")
    for method in ("capture", "aclose"):
        if not inspect.iscoroutinefunction(getattr(strategy, method)):
            raise PluginRefused(f"{method}() must be an async method")
    if not isinstance(strategy.name, str) or strategy.name != name:
        raise PluginRefused(f"its name attribute {strategy.name!r} must equal its entry-point name {name!r}")
    return strategy


def load_plugins(
    allowed: Iterable[str],
    make_context: Callable[[str], StrategyContext],
    available: Iterable[EntryPoint] | None = None,
) -> dict[str, MonitoringStrategy]:
    """Load every allowed plugin that loads and passes the protocol check; log and skip the others."""
    wanted = list(dict.fromkeys(allowed))
    found = {ep.name: ep for ep in (entry_points(group=GROUP) if available is None else available)}
    loaded: dict[str, MonitoringStrategy] = {}
    for name in wanted:
        if name in RESERVED:
            log.error("strategy plugin %r refused: the name is taken by a built-in strategy", name)
            continue
        ep = found.get(name)
        if ep is None:
            log.error("strategy plugin %r refused: no entry point of that name in group %s (installed: %s)",
                      name, GROUP, ", ".join(sorted(found)) or "none")
            continue
        try:
            factory = ep.load()
            loaded[name] = _check(name, factory(make_context(name)))
        except PluginRefused as exc:
            log.error("strategy plugin %r (%s) refused: %s", name, ep.value, exc)
        except Exception as exc:  # a plugin's import or factory can fail any way at all
            log.error("strategy plugin %r (%s) refused: failed to load: %s: %s", name, ep.value,
                      type(exc).__name__, exc, exc_info=exc)
        else:
            log.info("strategy plugin %r loaded from %s", name, ep.value)
    for name in sorted(found.keys() - set(wanted)):
        log.debug("strategy plugin %r is installed but not allowed (strategy_plugins)", name)
    return loaded
