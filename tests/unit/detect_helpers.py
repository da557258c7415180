"""Shared builders for the detection tests (panes, process facts, contexts)."""

from __future__ import annotations

from tmux_orc.detect.engine import DetectContext, classify
from tmux_orc.model import Kind, Observation, PaneInfo, ProcessFacts

NOW = 1_754_900_000.0  # 2025-08-11 08:13:20 UTC


def pane(title: str = "", dead: bool = False, status: int | None = None, width: int = 120) -> PaneInfo:
    return PaneInfo(
        pane_id="%1",
        session="s",
        window_index=1,
        window_name="Claude-dev",
        pane_index=0,
        pane_pid=100,
        current_command="claude",
        dead=dead,
        dead_status=status,
        title=title,
        width=width,
    )


def alive(kind: Kind = Kind.CLAUDE) -> ProcessFacts:
    return ProcessFacts(kind=kind, agent_pid=200, commands=("bash", str(kind)))


SHELL_ONLY = ProcessFacts(kind=Kind.SHELL, agent_pid=None, shell_in_foreground=True, commands=("bash",))


def ctx(now: float = NOW, first_seen: float = NOW - 3600, **kw: object) -> DetectContext:
    return DetectContext(now=now, first_seen=first_seen, **kw)  # type: ignore[arg-type]


def look(
    screen: str,
    facts: ProcessFacts | None = None,
    *,
    title: str = "",
    prev: Observation | None = None,
    context: DetectContext | None = None,
) -> Observation:
    return classify(screen, pane(title), facts or alive(), prev, context or ctx())
