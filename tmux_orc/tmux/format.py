"""The one ``list-panes -a`` format the monitor uses, and its parser. Shared by every strategy."""

from __future__ import annotations

import logging

from tmux_orc.model import PaneInfo

log = logging.getLogger(__name__)

SEP = "\x1f"  # ASCII unit separator: never part of a name a person types

_FIELDS = (
    "pane_id",
    "pane_pid",
    "pane_dead",
    "pane_dead_status",
    "window_index",
    "pane_index",
    "pane_width",
    "pane_height",
    "window_activity",
    "pane_in_mode",
    "session_id",
    "window_id",
    "pane_current_command",
    "session_name",
    "window_name",
    "pane_title",
)

PANE_FORMAT = SEP.join(f"#{{{name}}}" for name in _FIELDS)


def _int(text: str, default: int = 0) -> int:
    try:
        return int(text)
    except ValueError:
        return default


def parse_pane_line(line: str) -> PaneInfo | None:
    """One line of ``list-panes -a -F PANE_FORMAT`` output, or None if it is not one."""
    parts = line.split(SEP)
    if len(parts) != len(_FIELDS) or not parts[0].startswith("%"):
        return None
    (pane_id, pid, dead, dead_status, w_index, p_index, width, height, activity, in_mode,
     session_id, window_id, command, session, window_name, title) = parts
    return PaneInfo(
        pane_id=pane_id,
        session=session,
        window_index=_int(w_index),
        window_name=window_name,
        pane_index=_int(p_index),
        pane_pid=_int(pid),
        current_command=command,
        dead=dead == "1",
        dead_status=_int(dead_status) if dead_status else None,
        title=title,
        width=_int(width, 80),
        height=_int(height, 24),
        window_activity=float(_int(activity)),
        session_id=session_id,
        window_id=window_id,
        in_mode=in_mode == "1",
    )


def parse_pane_lines(lines: list[str]) -> list[PaneInfo]:
    panes = []
    for line in lines:
        pane = parse_pane_line(line)
        if pane is None:
            if line.strip():
                log.warning("ignoring a pane tmux described oddly (a name holding \\x1f?): %r", line[:200])
            continue
        panes.append(pane)
    return panes
