"""``tmux-orc agents`` (table, JSON, live view) and ``tmux-orc explain TARGET``."""

from __future__ import annotations

import argparse
import shutil
import time
from typing import Any, TextIO

from tmux_orc.cli.render import render_agents_table, render_explanation, to_json
from tmux_orc.cli.watch import watch_agents
from tmux_orc.client import MonitorClient


async def agents(client: MonitorClient, args: argparse.Namespace, out: TextIO) -> int:
    if args.watch:
        await watch_agents(client, out, interval=args.interval, json_lines=args.json)
        return 0
    listing: list[dict[str, Any]] = await client.call_one("ListAgents") or []
    if args.json:
        print(to_json(sorted(listing, key=lambda agent: str(agent.get("target", "")))), file=out)
    else:
        width = shutil.get_terminal_size().columns
        print(render_agents_table(listing, now=time.time(), width=width), file=out)
    return 0


async def explain(client: MonitorClient, args: argparse.Namespace, out: TextIO) -> int:
    explanation: dict[str, Any] = await client.call_one("Explain", "s", [args.target])
    if args.json:
        print(to_json(explanation), file=out)
    else:
        print(render_explanation(args.target, explanation, now=time.time()), file=out)
    return 0
