"""MetricsCollector: cycle and phase timings, counters, memory use; as a dict or Prometheus text.

Memory is bounded: the last ``window`` samples per timing, at most ``MAX_NAMES`` phases and counters.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import resource
import time
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path

from tmux_orc.atomicfile import write_atomic

WINDOW = 100
MAX_NAMES = 64
PREFIX = "tmux_orc_"
CORE_COUNTERS = ("transitions", "notifications", "recoveries", "errors")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class _Timing:
    """Last ``window`` samples in milliseconds, plus all-time sum and count."""

    __slots__ = ("count", "samples", "total_ms")

    def __init__(self, window: int) -> None:
        self.samples: deque[float] = deque(maxlen=window)
        self.total_ms = 0.0
        self.count = 0

    def add(self, ms: float) -> None:
        self.samples.append(ms)
        self.total_ms += ms
        self.count += 1

    def quantile(self, q: float) -> float:
        """Nearest-rank quantile of the window; 0.0 when empty."""
        if not self.samples:
            return 0.0
        ordered = sorted(self.samples)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

    def max(self) -> float:
        return max(self.samples, default=0.0)


def rss_bytes() -> int:
    """Resident memory of this process (``/proc/self/statm``; the peak from getrusage as a fallback)."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class MetricsCollector:
    """The daemon's measurements: cycle and phase timings, counters, memory use."""

    def __init__(self, window: int = WINDOW) -> None:
        self.window = window
        self._cycle = _Timing(window)
        self._last_cycle_ms = 0.0
        self._phases: dict[str, _Timing] = {}
        self._counters: dict[str, int] = dict.fromkeys(CORE_COUNTERS, 0)

    # --- recording -----------------------------------------------------------------------------------
    def record_cycle(self, ms: float, phases: Mapping[str, float] | None = None) -> None:
        """One completed monitoring cycle took ``ms`` milliseconds (optionally with its phases)."""
        self._cycle.add(ms)
        self._last_cycle_ms = ms
        for name, phase_ms in (phases or {}).items():
            self.record_phase(name, phase_ms)

    def record_phase(self, name: str, ms: float) -> None:
        """One phase of a cycle took ``ms`` milliseconds (a bad name, or a new one past ``MAX_NAMES``, is dropped)."""
        timing = self._phases.get(name)
        if timing is None:
            if not _NAME.match(name) or len(self._phases) >= MAX_NAMES:
                return
            timing = self._phases[name] = _Timing(self.window)
        timing.add(ms)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """``with metrics.phase("capture"): ...`` records the block's duration."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.record_phase(name, (time.perf_counter() - start) * 1000.0)

    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to a counter (``transitions``, ``notifications``, ``recoveries``, ``errors``, ...)."""
        if name not in self._counters and (not _NAME.match(name) or len(self._counters) >= MAX_NAMES):
            return
        self._counters[name] = self._counters.get(name, 0) + n

    # --- reading -------------------------------------------------------------------------------------
    @property
    def cycles(self) -> int:
        """Monitoring cycles recorded since start."""
        return self._cycle.count

    @property
    def last_cycle_ms(self) -> float:
        """Duration of the last recorded cycle in milliseconds (0.0 before the first)."""
        return self._last_cycle_ms

    def as_dict(self) -> dict[str, float | int]:
        """The contract's GetMetrics keys, counters, and p50/p95 per phase (``phase_<name>_ms_p95``)."""
        out: dict[str, float | int] = {
            "cycle_ms_p50": float(self._cycle.quantile(0.5)),
            "cycle_ms_p95": float(self._cycle.quantile(0.95)),
            "cycle_ms_max": float(self._cycle.max()),
            "last_cycle_ms": float(self._last_cycle_ms),
            "cycles": self._cycle.count,
            "rss_bytes": rss_bytes(),
        }
        for name, value in self._counters.items():
            out.setdefault(name, int(value))
        for name, timing in self._phases.items():
            out[f"phase_{name}_ms_p50"] = float(timing.quantile(0.5))
            out[f"phase_{name}_ms_p95"] = float(timing.quantile(0.95))
        return out

    def prometheus_text(self, agents_by_state: Mapping[str, int] | None = None,
                        extra_counters: Mapping[str, int] | None = None) -> str:
        """Prometheus text exposition format 0.0.4; every name starts with ``tmux_orc_``."""
        lines: list[str] = []

        def family(name: str, kind: str, help_text: str) -> None:
            lines.append(f"# HELP {PREFIX}{name} {help_text}")
            lines.append(f"# TYPE {PREFIX}{name} {kind}")

        family("cycle_duration_seconds", "summary", "Duration of monitoring cycles (quantiles over the last "
               f"{self.window} cycles).")
        _summary(lines, "cycle_duration_seconds", self._cycle, {})
        if self._phases:
            family("phase_duration_seconds", "summary", "Duration of the phases of a monitoring cycle.")
            for name, timing in sorted(self._phases.items()):
                _summary(lines, "phase_duration_seconds", timing, {"phase": name})
        family("last_cycle_duration_seconds", "gauge", "Duration of the last monitoring cycle.")
        lines.append(f"{PREFIX}last_cycle_duration_seconds {_num(self._last_cycle_ms / 1000.0)}")
        family("cycles_total", "counter", "Monitoring cycles completed.")
        lines.append(f"{PREFIX}cycles_total {self._cycle.count}")
        counters = dict(self._counters)
        for name, value in (extra_counters or {}).items():
            if _NAME.match(name):
                counters.setdefault(name, value)
        for name, value in sorted(counters.items()):
            family(f"{name}_total", "counter", f"Count of {name.replace('_', ' ')}.")
            lines.append(f"{PREFIX}{name}_total {int(value)}")
        family("resident_memory_bytes", "gauge", "Resident memory of the daemon.")
        lines.append(f"{PREFIX}resident_memory_bytes {rss_bytes()}")
        if agents_by_state is not None:
            family("agents", "gauge", "Agents by state.")
            for state, n in sorted(agents_by_state.items()):
                lines.append(f'{PREFIX}agents{{state="{_label(state)}"}} {int(n)}')
        return "\n".join(lines) + "\n"

    def write_prometheus(self, path: Path, agents_by_state: Mapping[str, int] | None = None,
                         extra_counters: Mapping[str, int] | None = None) -> None:
        """Write :meth:`prometheus_text` atomically (for node_exporter's textfile collector)."""
        write_atomic(Path(path), self.prometheus_text(agents_by_state, extra_counters).encode(), 0o644)


def _summary(lines: list[str], name: str, timing: _Timing, labels: dict[str, str]) -> None:
    for q in (0.5, 0.95, 1.0):
        all_labels = {**labels, "quantile": str(q)}
        lines.append(f"{PREFIX}{name}{_labels(all_labels)} {_num(timing.quantile(q) / 1000.0)}")
    lines.append(f"{PREFIX}{name}_sum{_labels(labels)} {_num(timing.total_ms / 1000.0)}")
    lines.append(f"{PREFIX}{name}_count{_labels(labels)} {timing.count}")


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_label(v)}"' for k, v in labels.items()) + "}"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _num(value: float) -> str:
    return repr(float(value))
