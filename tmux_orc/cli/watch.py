"""The live agents view shared by ``tmux-orc agents --watch`` and ``tmux-orc demo``.

It redraws on every agent signal (coalesced) and at least once per interval. On a terminal each frame
replaces the previous one; into a pipe or file frames follow each other, separated by a blank line.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import time
from collections.abc import Sequence
from typing import Any, TextIO

from tmux_orc.cli.render import render_agents_table
from tmux_orc.client import DaemonUnreachable, MonitorClient, Signal

AGENT_SIGNALS = frozenset({"AgentStateChanged", "AgentAppeared", "AgentVanished"})
COALESCE_SECONDS = 0.2  # a burst of signals gives one redraw
HOME_AND_CLEAR = "\033[H\033[J"


def render_frame(agents: Sequence[dict[str, Any]], *, now: float, width: int, banner: Sequence[str] = ()) -> str:
    """One screenful: banner lines, a clock line, then the agents table."""
    clock = time.strftime("%H:%M:%S", time.localtime(now))
    count = f"{len(agents)} agent{'s' if len(agents) != 1 else ''}"
    header = f"tmux-orc agents · {clock} · {count} · Ctrl-C quits"
    return "\n".join([*banner, header, "", render_agents_table(agents, now=now, width=width)])


async def watch_agents(
    client: MonitorClient,
    out: TextIO,
    *,
    interval: float,
    duration: float | None = None,
    banner: Sequence[str] = (),
    json_lines: bool = False,
) -> None:
    """Redraw the agents table until cancelled (Ctrl-C) or ``duration`` seconds have passed.

    With ``json_lines`` each refresh is one line of JSON (the sorted ``ListAgents`` list) instead."""
    changed = asyncio.Event()

    def on_agent_signal(_received: Signal) -> None:
        changed.set()

    await client.subscribe(set(AGENT_SIGNALS), on_agent_signal)
    loop = asyncio.get_running_loop()
    deadline = None if duration is None else loop.time() + duration
    on_terminal = out.isatty()
    if on_terminal:  # a resized terminal gets a new frame at once
        loop.add_signal_handler(signal.SIGWINCH, changed.set)
    try:
        await _redraw_loop(client, out, changed, interval, deadline, banner, json_lines, on_terminal)
    finally:
        if on_terminal:
            loop.remove_signal_handler(signal.SIGWINCH)


async def _redraw_loop(
    client: MonitorClient,
    out: TextIO,
    changed: asyncio.Event,
    interval: float,
    deadline: float | None,
    banner: Sequence[str],
    json_lines: bool,
    on_terminal: bool,
) -> None:
    loop = asyncio.get_running_loop()
    while True:
        changed.clear()
        agents: list[dict[str, Any]] = await client.call_one("ListAgents") or []
        if json_lines:
            ordered = sorted(agents, key=lambda agent: str(agent.get("target", "")))
            out.write(json.dumps(ordered, sort_keys=True, ensure_ascii=False) + "\n")
        else:
            width = shutil.get_terminal_size().columns
            frame = render_frame(agents, now=time.time(), width=width, banner=banner)
            out.write(HOME_AND_CLEAR + frame + "\n" if on_terminal else frame + "\n\n")
        out.flush()
        wait = interval if deadline is None else min(interval, deadline - loop.time())
        if wait <= 0:
            return
        await _wait_for_change(changed, client, wait)
        if client.daemon_left.is_set():
            raise DaemonUnreachable("the tmux-orc daemon left the session bus")
        if deadline is not None and loop.time() >= deadline:
            return
        if changed.is_set():
            await asyncio.sleep(COALESCE_SECONDS)


async def _wait_for_change(changed: asyncio.Event, client: MonitorClient, seconds: float) -> None:
    waiters = {asyncio.ensure_future(changed.wait()), asyncio.ensure_future(client.daemon_left.wait())}
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
