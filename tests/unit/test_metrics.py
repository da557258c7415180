"""MetricsCollector: quantiles over the window, contract keys, Prometheus text."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tmux_orc.core.metrics import MAX_NAMES, MetricsCollector


def test_empty_collector_has_the_contract_keys() -> None:
    d = MetricsCollector().as_dict()
    for key in ("cycle_ms_p50", "cycle_ms_p95", "cycle_ms_max"):
        assert isinstance(d[key], float) and d[key] == 0.0
    assert d["cycles"] == 0 and isinstance(d["rss_bytes"], int) and d["rss_bytes"] > 1_000_000
    for key in ("transitions", "notifications", "recoveries", "errors"):
        assert d[key] == 0 and isinstance(d[key], int)


def test_quantiles_over_the_last_100_cycles() -> None:
    m = MetricsCollector()
    for ms in range(1, 151):  # 1..150: the window holds 51..150
        m.record_cycle(float(ms))
    d = m.as_dict()
    assert d["cycles"] == 150
    assert d["cycle_ms_p50"] == 100.0 and d["cycle_ms_p95"] == 145.0 and d["cycle_ms_max"] == 150.0
    assert d["last_cycle_ms"] == 150.0


def test_counters_and_phases_are_bounded() -> None:
    m = MetricsCollector()
    m.count("transitions", 3)
    m.count("errors")
    m.record_cycle(10.0, {"capture": 4.0, "classify": 2.0})
    with m.phase("publish"):
        pass
    for i in range(MAX_NAMES * 2):
        m.count(f"extra_{i}")
        m.record_phase(f"p_{i}", 1.0)
    m.count("Bad Name!")
    d = m.as_dict()
    assert d["transitions"] == 3 and d["errors"] == 1
    assert d["phase_capture_ms_p95"] == 4.0 and "phase_publish_ms_p50" in d
    assert "Bad Name!" not in d
    assert len([k for k in d if k.startswith("phase_")]) <= 2 * MAX_NAMES
    assert len(m._counters) <= MAX_NAMES and len(m._phases) <= MAX_NAMES


_SAMPLE = re.compile(r'^tmux_orc_[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+-]+$')


def test_prometheus_text_format() -> None:
    m = MetricsCollector()
    m.record_cycle(20.0, {"capture": 5.0})
    m.count("transitions", 2)
    text = m.prometheus_text({"idle": 2, "crashed": 1}, {"alerts_dropped": 4})
    assert text.endswith("\n")
    lines = text.splitlines()
    families = [ln.split()[2] for ln in lines if ln.startswith("# TYPE")]
    assert len(families) == len(set(families))
    for line in lines:
        assert line.startswith(("# HELP tmux_orc_", "# TYPE tmux_orc_")) or _SAMPLE.match(line), line
    assert 'tmux_orc_cycle_duration_seconds{quantile="0.5"} 0.02' in lines
    assert "tmux_orc_cycle_duration_seconds_count 1" in lines
    assert 'tmux_orc_phase_duration_seconds{phase="capture",quantile="0.95"} 0.005' in lines
    assert "tmux_orc_transitions_total 2" in lines and "tmux_orc_alerts_dropped_total 4" in lines
    assert 'tmux_orc_agents{state="crashed"} 1' in lines
    assert "# TYPE tmux_orc_cycles_total counter" in lines


def test_write_prometheus_is_atomic_and_leaves_no_temp(tmp_path: Path) -> None:
    m = MetricsCollector()
    target = tmp_path / "tmux_orc.prom"
    m.write_prometheus(target)
    m.record_cycle(1.0)
    m.write_prometheus(target)
    assert os.listdir(tmp_path) == ["tmux_orc.prom"]
    assert "tmux_orc_cycles_total 1" in target.read_text()
