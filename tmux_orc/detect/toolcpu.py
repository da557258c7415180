"""Are the agent's tools busy? CPU time of the programs an agent runs, over a trailing window.

A build or a test run that prints nothing leaves a working screen frozen but for its clock, exactly
like a stalled stream; only the CPU time spent below the agent program tells them apart. The tools
count as busy when they used ``TOOL_BUSY_SHARE`` of a CPU over the last ``window`` seconds (the stuck
threshold): a background process that wakes now and then (an MCP server, a watcher) stays far below
that, and a tool that was busy and then hangs drops out of the window ``window`` seconds later.

The track is a few ``(time, CPU seconds)`` samples of one agent process, spaced ``window / 8`` apart,
kept only as far back as the window reaches. A new agent pid starts a new track (the sums of two
processes say nothing about each other); a clock that went backwards starts one too.
"""

from __future__ import annotations

from tmux_orc.model import ProcessFacts, ToolTrack

TOOL_BUSY_SHARE = 0.1  # of one CPU, averaged over the window
SAMPLES_PER_WINDOW = 8


def record(prev: ToolTrack | None, facts: ProcessFacts, now: float, window: float) -> ToolTrack | None:
    """The track after one more look at the agent's tool CPU time (None when no agent runs)."""
    if facts.agent_pid is None or facts.tool_cpu_seconds is None:
        return None
    point = (now, facts.tool_cpu_seconds)
    if prev is None or prev.pid != facts.agent_pid or not prev.samples or prev.samples[-1][0] > now:
        return ToolTrack(facts.agent_pid, (point,))
    samples = prev.samples
    if now - samples[-1][0] >= window / SAMPLES_PER_WINDOW:
        samples = (*samples, point)
    start = now - window
    first = 0
    while first + 1 < len(samples) and samples[first + 1][0] <= start:  # keep the sample opening the window
        first += 1
    return ToolTrack(prev.pid, samples[first:]) if first or samples is not prev.samples else prev


def busy_share(track: ToolTrack | None, facts: ProcessFacts, now: float) -> float | None:
    """Share of one CPU the agent's tools used since the oldest sample of the track (about one window
    ago), or None when unknown (no track, another process, no time passed)."""
    if track is None or facts.tool_cpu_seconds is None or track.pid != facts.agent_pid:
        return None
    since, cpu = track.samples[0]
    if now <= since:
        return None
    return max(facts.tool_cpu_seconds - cpu, 0.0) / (now - since)


def tools_busy(share: float | None) -> bool:
    return share is not None and share >= TOOL_BUSY_SHARE
