"""Turning the daemon's answers into text: the agents table, key/value reports, durations and JSON.

Pure functions of their inputs (the clock and the terminal width are parameters), so tests need
neither a bus nor a terminal.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

AGENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("TARGET", "target"),
    ("ROLE", "role"),
    ("KIND", "kind"),
    ("STATE", "state"),
    ("SINCE", "state_since"),
    ("DETAIL", "detail"),
)
MIN_DETAIL_WIDTH = 10
ELLIPSIS = "…"
# What a terminal would act on rather than show: C0 controls (ESC starts a sequence), DEL, the C1
# controls (U+009B is CSI on 8-bit terminals) and the bidi overrides that reorder what follows.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# JSON already escapes C0; the rest of the set above is written as \uXXXX (still the same string).
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: whitespace runs become one space, other control
    characters are shown as ``\\xNN`` / ``\\uNNNN`` instead of being sent to the terminal."""
    joined = " ".join(text.split())
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                            else f"\\u{ord(m.group()):04x}", joined)


def to_json(value: Any) -> str:
    """Stable JSON: sorted keys, two-space indent, UTF-8 kept readable (but no raw control characters)."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def format_duration(seconds: float) -> str:
    """A short human duration: ``12s``, ``5m``, ``2h``, ``3d`` (rounded down, never negative)."""
    if not math.isfinite(seconds) or seconds < 0:
        seconds = 0.0
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m"
    if whole < 86400:
        return f"{whole // 3600}h"
    return f"{whole // 86400}d"


def format_since(timestamp: Any, now: float) -> str:
    """How long ago a unix time was, or ``-`` when it is missing."""
    if not isinstance(timestamp, int | float) or isinstance(timestamp, bool) or timestamp <= 0:
        return "-"
    return format_duration(now - float(timestamp))


def truncate(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` characters, marking the cut with an ellipsis."""
    text = printable(text)  # one line: no newlines, tabs or escape sequences inside a table cell
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    return text[: width - 1] + ELLIPSIS


def agent_cells(agent: Mapping[str, Any], now: float) -> list[str]:
    """One table row's cells for an agent dict from ``ListAgents``."""
    cells = []
    for _, key in AGENT_COLUMNS:
        value = agent.get(key, "")
        cells.append(format_since(value, now) if key == "state_since" else printable(str(value)))
    return cells


def stale_reason(status: Mapping[str, Any]) -> str:
    """Why the states the daemon holds are not current ("" when they are), from its ``GetStatus``."""
    if status.get("running", True) is False:
        return "monitoring is paused (`tmux-orc monitor start` resumes): states are as last seen, stale"
    if status.get("tmux_connected", True) is False:
        reason = str(status.get("tmux_error") or "the daemon reaches no tmux server")
        return f"{reason}: states are as last seen, stale"
    return ""


def mark_stale(agents: Sequence[Mapping[str, Any]], stale: bool) -> list[dict[str, Any]]:
    """The agent dicts with a ``stale`` key each (true while the daemon is paused or blind)."""
    return [{**agent, "stale": stale} for agent in agents]


def render_agents_table(
    agents: Sequence[Mapping[str, Any]], *, now: float, width: int, stale_note: str = ""
) -> str:
    """The agents table, sorted by target, with DETAIL cut to fit ``width`` columns.

    With ``stale_note`` (see :func:`stale_reason`) a header line says why, and each state reads
    ``idle (stale)``.
    """
    header = [f"# {printable(stale_note)}"] if stale_note else []
    if not agents:
        return "\n".join([*header, "no agents found (agent windows are named like Claude-pm, Claude-developer, ...)"])
    ordered = sorted(agents, key=lambda a: str(a.get("target", "")))
    if stale_note:
        ordered = [{**agent, "state": f"{agent.get('state', '')} (stale)"} for agent in ordered]
    rows = [agent_cells(agent, now) for agent in ordered]
    headers = [title for title, _ in AGENT_COLUMNS]
    fixed = len(headers) - 1  # every column but DETAIL is shown whole
    widths = [max(len(headers[i]), *(len(row[i]) for row in rows)) for i in range(fixed)]
    used = sum(widths) + 2 * fixed
    detail_width = max(MIN_DETAIL_WIDTH, width - used)
    lines = [*header, _join(headers, widths)]
    lines += [_join([*row[:fixed], truncate(row[fixed], detail_width)], widths) for row in rows]
    return "\n".join(lines)


def _join(cells: Sequence[str], widths: Sequence[int]) -> str:
    padded = [cell.ljust(widths[i]) for i, cell in enumerate(cells[:-1])]
    return "  ".join([*padded, cells[-1]]).rstrip()


def format_value(value: Any) -> str:
    """A scalar as a person reads it: yes/no for booleans, short floats."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.0f}"
    if value is None:
        return "-"
    return printable(str(value))


def render_mapping(data: Mapping[str, Any], *, order: Sequence[str] = (), indent: int = 0) -> str:
    """``key: value`` lines; keys in ``order`` first, the rest sorted; nested dicts and lists indented."""
    keys = [key for key in order if key in data] + sorted(key for key in data if key not in order)
    if not keys:
        return " " * indent + "(none)"
    label_width = max(len(printable(str(key))) for key in keys) + 1
    lines: list[str] = []
    pad = " " * indent
    for key in keys:
        value = data[key]
        name = printable(str(key))
        label = f"{name}:".ljust(label_width)
        if isinstance(value, Mapping):
            lines.append(f"{pad}{name}:")
            lines.append(render_mapping(value, indent=indent + 2))
        elif isinstance(value, list | tuple):
            if value and all(not isinstance(item, Mapping | list | tuple) for item in value):
                lines.append(f"{pad}{name}:")
                lines += [f"{pad}  - {format_value(item)}" for item in value]
            elif not value:
                lines.append(f"{pad}{label} (none)")
            else:
                lines.append(f"{pad}{name}:")
                for item in value:
                    lines.append(
                        render_mapping(item, indent=indent + 4)
                        if isinstance(item, Mapping)
                        else f"{pad}  - {to_json(item)}"
                    )
        else:
            lines.append(f"{pad}{label} {format_value(value)}")
    return "\n".join(lines)


def format_bytes(count: float) -> str:
    """``123.4 MiB`` style sizes."""
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"  # pragma: no cover - the loop always returns


EXPLAIN_TIMESTAMPS = ("observed_at", "unchanged_since")


def render_explanation(target: str, explanation: Mapping[str, Any], *, now: float) -> str:
    """Why an agent is in its state: the state and rule first, then evidence lines and facts."""
    state = explanation.get("state", "unknown")
    lines = [f"{printable(str(explanation.get('target', target)))} is {printable(str(state))}"]
    shown = {"state", "target", "rule", "detail", "evidence", "facts"}
    if explanation.get("rule"):
        lines.append(f"  rule:     {printable(str(explanation['rule']))}")
    if explanation.get("detail"):
        lines.append(f"  detail:   {printable(str(explanation['detail']))}")
    evidence = explanation.get("evidence") or []
    if evidence:
        lines.append("  evidence:")
        lines += [f"    | {printable(str(item))}" for item in evidence]
    facts = explanation.get("facts") or {}
    if isinstance(facts, Mapping) and facts:
        lines.append("  facts:")
        lines.append(render_mapping(facts, indent=4))
    rest = {key: value for key, value in explanation.items() if key not in shown}
    for key in EXPLAIN_TIMESTAMPS:
        if key in rest:
            rest[key] = f"{format_since(rest[key], now)} ago" if format_since(rest[key], now) != "-" else "-"
    if rest:
        lines.append(render_mapping(rest, indent=2))
    return "\n".join(lines)
