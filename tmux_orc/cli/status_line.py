"""``tmux-orc status-line``: one short line for tmux's ``status-right`` or a waybar/polybar module.

One ``ListAgents`` call per run (tmux runs it every ``status-interval``): the agents per state that
needs attention, then the working/idle totals, e.g. ``orc 1 crashed 2 waiting · 3 working 1 idle``.
``--tmux`` adds tmux colour markup, ``--format waybar`` prints waybar's JSON (text, tooltip, class),
``--follow`` prints a new line each time the line changes (from the daemon's signals). When the daemon
cannot be reached it prints a short marker (``orc down``) and exits 3.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any, TextIO

from tmux_orc.client import DaemonUnreachable, MonitorClient, Signal, call_timeout

EXIT_UNREACHABLE = 3
LABEL = "orc"
DOWN = f"{LABEL} down"
# State, word shown, tmux style; most urgent first.
ATTENTION: tuple[tuple[str, str, str], ...] = (
    ("crashed", "crashed", "fg=red,bold"),
    ("error", "error", "fg=red"),
    ("stuck", "stuck", "fg=magenta"),
    ("rate_limited", "limited", "fg=yellow"),
    ("waiting_input", "waiting", "fg=yellow,bold"),
    ("unsubmitted", "unsent", "fg=cyan"),
)
TOTALS: tuple[tuple[str, str, str], ...] = (("working", "working", "fg=green"), ("idle", "idle", "default"))
AGENT_SIGNALS = frozenset({"AgentStateChanged", "AgentAppeared", "AgentVanished"})
COALESCE_SECONDS = 0.2
RECHECK_SECONDS = 2.0


def _parts(counts: Counter[str], table: Sequence[tuple[str, str, str]], markup: bool) -> list[str]:
    out = []
    for state, word, style in table:
        if counts[state]:
            text = f"{counts[state]} {word}"
            out.append(f"#[{style}]{text}#[default]" if markup and style != "default" else text)
    return out


def render_line(agents: Sequence[dict[str, Any]], *, markup: bool = False) -> str:
    """``orc 1 crashed 2 waiting · 3 working 1 idle``; ``orc 0 agents`` when there are none."""
    counts = Counter(str(a.get("state", "")) for a in agents)
    attention = _parts(counts, ATTENTION, markup)
    totals = _parts(counts, TOTALS, markup)
    if not agents:
        totals = ["0 agents"]
    elif not totals:
        totals = [f"{len(agents)} agent{'s' if len(agents) != 1 else ''}"]
    return " ".join([LABEL, *attention, *(["·"] if attention else []), *totals])


def worst_state(agents: Sequence[dict[str, Any]]) -> str:
    """The most urgent attention state among ``agents``, or ``ok``."""
    states = {str(a.get("state", "")) for a in agents}
    return next((state for state, _, _ in ATTENTION if state in states), "ok")


def render_waybar(agents: Sequence[dict[str, Any]]) -> str:
    """waybar's custom-module JSON: ``text``, ``tooltip`` (one line per agent needing attention) and
    ``class`` (the most urgent state, ``ok``, or ``down``)."""
    urgent = {state for state, _, _ in ATTENTION}
    lines = [f"{a.get('target', '')} {a.get('window', '')}: {a.get('state', '')}"
             + (f" ({a.get('detail')})" if a.get("detail") else "")
             for a in sorted(agents, key=lambda a: str(a.get("target", ""))) if a.get("state") in urgent]
    tooltip = "\n".join(html.escape(line[:200], quote=False) for line in lines) or "no agent needs attention"
    return json.dumps({"text": render_line(agents), "tooltip": tooltip, "class": worst_state(agents)},
                      ensure_ascii=False)


def down_marker(fmt: str, markup: bool, why: str) -> str:
    """What is printed when the daemon cannot be asked."""
    if fmt == "waybar":
        return json.dumps({"text": DOWN, "tooltip": html.escape(why[:300], quote=False), "class": "down"})
    return f"#[fg=red]{DOWN}#[default]" if markup else DOWN


def render(agents: Sequence[dict[str, Any]], fmt: str, markup: bool) -> str:
    """The line in the asked-for form."""
    return render_waybar(agents) if fmt == "waybar" else render_line(agents, markup=markup)


async def _follow(client: MonitorClient, out: TextIO, fmt: str, markup: bool) -> None:
    changed = asyncio.Event()

    def on_signal(_received: Signal) -> None:
        changed.set()

    await client.subscribe(set(AGENT_SIGNALS), on_signal)
    last = ""
    while True:
        changed.clear()
        if client.daemon_left.is_set():
            line = down_marker(fmt, markup, "the tmux-orc daemon left the session bus")
            while not await client.name_has_owner():
                if line != last:
                    out.write(line + "\n")
                    out.flush()
                    last = line
                await asyncio.sleep(RECHECK_SECONDS)
            client.daemon_left.clear()
        try:
            agents: list[dict[str, Any]] = await client.call_one("ListAgents") or []
        except DaemonUnreachable:
            client.daemon_left.set()  # not there (yet): the marker, then wait for it to come back
            continue
        line = render(agents, fmt, markup)
        if line != last:
            out.write(line + "\n")
            out.flush()
            last = line
        waiters = {asyncio.ensure_future(changed.wait()), asyncio.ensure_future(client.daemon_left.wait())}
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        await asyncio.sleep(COALESCE_SECONDS)  # a burst of signals gives one new line


async def _run(args: argparse.Namespace, out: TextIO, timeout: float) -> int:
    markup = bool(args.tmux)
    try:
        async with MonitorClient(timeout=timeout) as client:
            if args.follow:
                await _follow(client, out, args.format, markup)
                return 0
            agents: list[dict[str, Any]] = await client.call_one("ListAgents") or []
    except DaemonUnreachable as exc:
        print(down_marker(args.format, markup, str(exc)), file=out, flush=True)
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    print(render(agents, args.format, markup), file=out)
    return 0


def add_parser(commands: Any) -> None:
    """Register ``status-line`` on the CLI's subcommands."""
    parser = commands.add_parser("status-line", help="one short line of agent states for tmux or waybar")
    style = parser.add_mutually_exclusive_group()
    style.add_argument("--tmux", action="store_true", help="with tmux colour markup (#[fg=red]...)")
    style.add_argument("--plain", action="store_true", help="plain text (the default)")
    parser.add_argument("--format", choices=("text", "waybar"), default="text",
                        help="text (default) or waybar's JSON (text, tooltip, class)")
    parser.add_argument("--follow", action="store_true", help="print a new line on each change, until stopped")
    parser.set_defaults(local_command=run_status_line)


def run_status_line(args: argparse.Namespace, out: TextIO) -> int:
    """The ``status-line`` command (it owns its bus connection, to print a marker when unreachable)."""
    try:
        return asyncio.run(_run(args, out, min(call_timeout(), 5.0)))
    except KeyboardInterrupt:
        return 0
