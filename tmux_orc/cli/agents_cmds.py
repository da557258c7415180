"""``tmux-orc agents`` (table, JSON, live view) and ``tmux-orc explain TARGET``.

``agents`` also reads ``GetStatus``: while monitoring is paused or no tmux server is reached the
states it lists are stale, and it says so (a header line, ``(stale)`` states, ``"stale": true`` in
``--json``). When the daemon answers but reaches no tmux server it also prints the reason on stderr
and exits :data:`EXIT_NO_TMUX`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from typing import Any, TextIO

from tmux_orc.cli.render import (
    mark_stale,
    printable,
    render_agents_table,
    render_explanation,
    stale_reason,
    to_json,
)
from tmux_orc.cli.watch import watch_agents
from tmux_orc.client import MonitorClient

#: Exit status of a listing when the daemon answered but reaches no tmux server (the contract's 4).
EXIT_NO_TMUX = 4


def no_tmux_message(status: dict[str, Any]) -> str:
    """The stderr line for a daemon that reaches no tmux server ("" while it does)."""
    if status.get("tmux_connected", True) is not False:
        return ""
    reason = str(status.get("tmux_error") or "the daemon reaches no tmux server")
    return f"error: {reason} (is tmux running? see `tmux-orc doctor`)"


async def agents(client: MonitorClient, args: argparse.Namespace, out: TextIO) -> int:
    """``tmux-orc agents``: the agents as a table, JSON, plain targets or a live view; returns the exit status."""
    if args.watch:
        await watch_agents(client, out, interval=args.interval, json_lines=args.json)
        return 0
    if getattr(args, "kinds", False):
        return await kinds(client, args, out)
    if getattr(args, "targets", False):  # for shell completion: plain targets, nothing else
        for agent in await client.call_one("ListAgents") or []:
            print(printable(str(agent.get("target", ""))), file=out)
        return 0
    status = (await client.status()).as_dict()
    listing: list[dict[str, Any]] = await client.call_one("ListAgents") or []
    note = stale_reason(status)
    if args.json:
        ordered = sorted(listing, key=lambda agent: str(agent.get("target", "")))
        print(to_json(mark_stale(ordered, bool(note))), file=out)
    else:
        width = shutil.get_terminal_size().columns
        print(render_agents_table(listing, now=time.time(), width=width, stale_note=note), file=out)
    message = no_tmux_message(status)
    if message:
        out.flush()
        print(printable(message), file=sys.stderr)
        return EXIT_NO_TMUX
    return 0


async def kinds(client: MonitorClient, args: argparse.Namespace, out: TextIO) -> int:
    """``tmux-orc agents --kinds``: the agent definitions the daemon reads, in matching order."""
    found = await client.agent_kinds()
    if args.json:
        print(to_json([k.as_dict() for k in found]), file=out)
        return 0
    rows: list[tuple[str, ...]] = [("KIND", "PROGRAMS", "RESUME", "HOOKS", "RULES", "FROM")]
    rows += [tuple(printable(cell) for cell in (k.name, ",".join(k.programs) or "-", k.resume or "-",
                                                ",".join(k.hooks) or "-", str(k.rules), k.source))
             for k in found]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1], file=out)
    return 0


async def explain(client: MonitorClient, args: argparse.Namespace, out: TextIO) -> int:
    """``tmux-orc explain TARGET``: the rule, evidence and facts behind an agent's state, as text or JSON."""
    explanation = (await client.explanation(args.target)).as_dict()
    if args.json:
        print(to_json(explanation), file=out)
    else:
        print(render_explanation(args.target, explanation, now=time.time()), file=out)
    return 0
