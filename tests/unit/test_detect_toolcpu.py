"""The stuck check with silent tools: CPU time below the agent over a trailing window (no I/O)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from tests.unit.detect_helpers import NOW, alive, ctx, look
from tests.unit.test_detect_engine import WORKING
from tmux_orc.detect import toolcpu
from tmux_orc.detect.engine import TOOL_CAP
from tmux_orc.model import Observation, ProcessFacts, State

STUCK_AFTER = 300.0


def run(cpu_at: Callable[[float], float], until: float, every: float = 10.0,
        pid: Callable[[float], int] = lambda t: 200) -> list[tuple[float, Observation]]:
    """A working screen that never changes while the agent's tools have used ``cpu_at(t)`` CPU seconds."""
    looks: list[tuple[float, Observation]] = []
    prev: Observation | None = None
    t = 0.0
    while t <= until:
        facts = replace(alive(), agent_pid=pid(t), tool_cpu_seconds=cpu_at(t))
        prev = look(WORKING, facts, prev=prev, context=ctx(now=NOW + t, stuck_after=STUCK_AFTER))
        looks.append((t, prev))
        t += every
    return looks


def states(looks: list[tuple[float, Observation]]) -> dict[float, State]:
    return {t: obs.verdict.state for t, obs in looks}


def test_busy_silent_tool_is_working_up_to_the_cap() -> None:
    """A build at half a CPU behind a frozen spinner is work, for up to TOOL_CAP stuck thresholds."""
    looks = run(lambda t: 0.5 * t, until=TOOL_CAP * STUCK_AFTER + 60)
    by_time = states(looks)
    assert {s for t, s in by_time.items() if t < TOOL_CAP * STUCK_AFTER} == {State.WORKING}
    assert by_time[TOOL_CAP * STUCK_AFTER + 60] is State.STUCK
    working = dict(looks)[STUCK_AFTER + 100].verdict
    assert "silent tool is busy" in working.detail and any("of a CPU" in e for e in working.evidence)
    assert "over 4x" in dict(looks)[TOOL_CAP * STUCK_AFTER + 60].verdict.detail


def test_frozen_screen_without_tools_is_stuck_with_a_steady_detail() -> None:
    looks = run(lambda t: 0.0, until=STUCK_AFTER + 100)
    by_time = states(looks)
    assert by_time[STUCK_AFTER - 10] is State.WORKING and by_time[STUCK_AFTER + 20] is State.STUCK
    details = {obs.verdict.detail for t, obs in looks if t >= STUCK_AFTER}
    assert len(details) == 1 and "tools idle" in details.pop()  # no PropertiesChanged every cycle


def test_bursts_of_a_background_process_do_not_hide_a_stall() -> None:
    """An MCP server or a watcher waking every 4 minutes for 0.3 s of CPU: stuck on time."""
    by_time = states(run(lambda t: 0.3 * (t // 240 + 1), until=STUCK_AFTER + 300))
    assert all(s is State.STUCK for t, s in by_time.items() if t >= STUCK_AFTER)


def test_steady_trickle_below_the_share_is_no_work() -> None:
    share = toolcpu.TOOL_BUSY_SHARE / 2
    assert states(run(lambda t: share * t, until=STUCK_AFTER + 20))[STUCK_AFTER + 20] is State.STUCK


def test_tool_that_hangs_after_working_is_stuck_a_window_later() -> None:
    """Busy for 400 s, then waiting on nothing: stuck once the busy part has left the window."""
    hang = 400.0
    looks = run(lambda t: 0.8 * min(t, hang), until=hang + 2 * STUCK_AFTER)
    by_time = states(looks)
    assert by_time[hang + 200] is State.WORKING  # most of the last window was busy
    late = hang + STUCK_AFTER + STUCK_AFTER / toolcpu.SAMPLES_PER_WINDOW + 10
    assert all(s is State.STUCK for t, s in by_time.items() if t >= late)


def test_a_new_agent_process_starts_a_new_track() -> None:
    """Two processes' sums are never compared: the old pid's large total does not look like a drop or a jump."""
    looks = run(lambda t: 1000.0 if t < 200 else 0.0, until=STUCK_AFTER + 100, pid=lambda t: 200 if t < 200 else 300)
    obs = looks[-1][1]
    assert obs.tools is not None and obs.tools.pid == 300
    assert obs.verdict.state is State.STUCK


def test_track_stays_small_and_covers_the_window() -> None:
    track = None
    facts = ProcessFacts(kind=alive().kind, agent_pid=200, tool_cpu_seconds=0.0)
    for second in range(0, 3600, 2):
        track = toolcpu.record(track, replace(facts, tool_cpu_seconds=second * 0.2), NOW + second, STUCK_AFTER)
        assert track is not None and len(track.samples) <= toolcpu.SAMPLES_PER_WINDOW + 2
    assert track is not None and track.samples[0][0] <= NOW + 3598 - STUCK_AFTER
    share = toolcpu.busy_share(track, replace(facts, tool_cpu_seconds=3598 * 0.2), NOW + 3598)
    assert share is not None and abs(share - 0.2) < 1e-6


def test_clock_going_backwards_starts_over() -> None:
    facts = ProcessFacts(kind=alive().kind, agent_pid=200, tool_cpu_seconds=5.0)
    track = toolcpu.record(None, facts, NOW, STUCK_AFTER)
    back = toolcpu.record(track, facts, NOW - 3600, STUCK_AFTER)
    assert back is not None and back.samples == ((NOW - 3600, 5.0),)
    assert toolcpu.busy_share(back, facts, NOW - 3600) is None


def test_no_agent_no_track() -> None:
    facts = ProcessFacts(kind=alive().kind, agent_pid=None)
    assert toolcpu.record(None, facts, NOW, STUCK_AFTER) is None
    assert toolcpu.busy_share(None, facts, NOW) is None
