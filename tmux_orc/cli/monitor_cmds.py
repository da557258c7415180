"""``tmux-orc monitor ...``: start, stop, status, reload, rollout, recover, logs, metrics."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
from typing import Any, TextIO

from tmux_orc.cli.render import format_bytes, format_duration, format_value, render_mapping, to_json
from tmux_orc.client import (
    UNKNOWN_METHOD,
    CommandFailed,
    DaemonError,
    DaemonUnreachable,
    MonitorClient,
    Signal,
    string_variants,
)

SYSLOG_IDENTIFIER = "tmux-orc"
STATUS_ORDER = (
    "running",
    "rollout_stage",
    "strategy",
    "agents",
    "cycles",
    "last_cycle_ms",
    "tmux_connected",
    "tmux_socket",
    "tmux_servers",
    "tmux_error",
    "uptime_s",
    "version",
)
METRICS_ORDER = ("cycles", "cycle_ms_p50", "cycle_ms_p95", "cycle_ms_max", "rss_bytes")
ROLLOUT_ORDER = (
    "stage",
    "auto",
    "frozen",
    "canary_fraction",
    "partial_fraction",
    "new_strategy",
    "strategy",
    "sessions",
    "health",
    "last_reason",
)


async def start(client: MonitorClient, args: argparse.Namespace, out: TextIO) -> int:
    """``tmux-orc monitor start``: resume monitoring (``Start``)."""
    await client.call("Start")
    print("monitoring resumed", file=out)
    return 0


async def stop(client: MonitorClient, args: argparse.Namespace, out: TextIO) -> int:
    """``tmux-orc monitor stop``: pause monitoring; the daemon stays on the bus (``Stop``)."""
    await client.call("Stop")
    print("monitoring paused (the daemon stays on the bus; `tmux-orc monitor start` resumes)", file=out)
    return 0


async def reload(client: MonitorClient, args: argparse.Namespace, out: TextIO) -> int:
    """``tmux-orc monitor reload``: have the daemon read its settings again (``Reload``)."""
    await client.call("Reload")
    print("settings reloaded", file=out)
    return 0


async def status(client: MonitorClient, args: argparse.Namespace, out: TextIO) -> int:
    """``tmux-orc monitor status``: the daemon's ``GetStatus`` as a table or JSON."""
    report = (await client.status()).as_dict()
    if args.json:
        print(to_json(report), file=out)
        return 0
    shown = dict(report)
    if not shown.get("tmux_error"):
        shown.pop("tmux_error", None)  # shown only when the daemon says why no tmux server answers
    if shown.get("tmux_socket") == "":
        shown["tmux_socket"] = "(unset: every tmux server of yours)"
    shown["tmux_servers"] = server_lines(shown.get("tmux_servers") or [])
    if isinstance(shown.get("uptime_s"), int | float):
        shown["uptime_s"] = f"{format_duration(shown['uptime_s'])} ({format_value(shown['uptime_s'])} s)"
    print(render_mapping(shown, order=STATUS_ORDER), file=out)
    return 0


def server_lines(servers: list[Any]) -> list[str]:
    """One line per tmux server the daemon watches: its name and socket, and its panes or why it does
    not answer."""
    lines = []
    for server in servers:
        if not isinstance(server, dict):
            continue
        where = f"{server.get('name', '?')} ({server.get('socket', '?')})"
        if server.get("connected"):
            lines.append(f"{where}: {server.get('panes', 0)} panes")
        else:
            lines.append(f"{where}: not reached: {server.get('error') or 'no answer'}")
    return lines


async def metrics(client: MonitorClient, args: argparse.Namespace, out: TextIO) -> int:
    """``tmux-orc monitor metrics``: the daemon's ``GetMetrics`` as a table or JSON."""
    report: dict[str, Any] = await client.call_one("GetMetrics")
    if args.json:
        print(to_json(report), file=out)
        return 0
    shown = dict(report)
    if isinstance(shown.get("rss_bytes"), int | float):
        shown["rss_bytes"] = f"{format_bytes(shown['rss_bytes'])} ({shown['rss_bytes']})"
    print(render_mapping(shown, order=METRICS_ORDER), file=out)
    return 0


async def rollout(client: MonitorClient, args: argparse.Namespace, out: TextIO) -> int:
    """``tmux-orc monitor rollout [STAGE]``: show the rollout, or set its stage and print the previous one."""
    if args.stage is not None:
        previous = await client.call_one("SetRolloutStage", "s", [args.stage])
        if args.json:
            print(to_json({"stage": args.stage, "previous": previous}), file=out)
        else:
            print(f"rollout stage: {args.stage} (was {previous})", file=out)
        return 0
    report = await read_rollout(client)
    if args.json:
        print(to_json(report), file=out)
    else:
        print(render_mapping(report, order=ROLLOUT_ORDER), file=out)
    return 0


async def read_rollout(client: MonitorClient) -> dict[str, Any]:
    """``GetRollout()`` when the daemon has it; otherwise the same picture from older methods."""
    try:
        return (await client.rollout()).as_dict()
    except DaemonError as exc:
        if exc.name != UNKNOWN_METHOD:
            raise
    stage = await client.call_one("GetRolloutStage")
    status_report: dict[str, Any] = await client.call_one("GetStatus")
    agents: list[dict[str, Any]] = await client.call_one("ListAgents")
    sessions: dict[str, str] = {}
    for agent in agents:
        sessions.setdefault(str(agent.get("session", "?")), str(agent.get("strategy", "?")))
    return {"stage": stage, "strategy": status_report.get("strategy", "?"), "sessions": sessions}


async def recover(client: MonitorClient, args: argparse.Namespace, out: TextIO) -> int:
    """``tmux-orc monitor recover TARGET``: start a recovery of the agent.

    With ``--wait``, wait for its ``RecoveryFinished`` and raise :class:`CommandFailed` when it failed or
    did not finish within ``--timeout`` seconds.
    """
    finished: dict[str, Signal] = {}
    arrived = asyncio.Event()

    def on_finished(signal: Signal) -> None:
        if signal.args:
            finished[str(signal.args[0])] = signal
            arrived.set()

    if args.wait:  # subscribe first: a quick recovery may finish before Recover's reply is read
        await client.subscribe({"RecoveryFinished"}, on_finished)
    options = string_variants({"command": args.command} if args.command else {})
    recovery_id = str(await client.call_one("Recover", "sa{sv}", [args.target, options]))
    print(f"recovery {recovery_id} started for {args.target}", file=out)
    if not args.wait:
        return 0
    out.flush()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.timeout
    while recovery_id not in finished:
        if client.daemon_left.is_set():
            raise DaemonUnreachable(f"the daemon left the bus before recovery {recovery_id} finished")
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise CommandFailed(f"recovery {recovery_id} did not finish within {args.timeout:g} s")
        arrived.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(arrived.wait(), min(remaining, 0.5))
    _, target, success, detail = [*finished[recovery_id].args, "", False, ""][:4]
    if not success:
        raise CommandFailed(f"recovery {recovery_id} of {target} failed: {detail}")
    print(f"recovery {recovery_id} of {target} succeeded" + (f": {detail}" if detail else ""), file=out)
    return 0


def journalctl_argv(*, follow: bool, lines: int | None) -> list[str]:
    """The journalctl command that shows the daemon's log (by identifier: unit filters miss it in
    some setups)."""
    argv = ["journalctl", "--no-pager", f"SYSLOG_IDENTIFIER={SYSLOG_IDENTIFIER}"]
    if follow:
        argv.append("--follow")
    if lines is not None:
        argv += ["--lines", str(lines)]
    return argv


def logs(args: argparse.Namespace, out: TextIO) -> int:
    """``tmux-orc monitor logs``: become journalctl showing the daemon's log (1 when journalctl is missing)."""
    argv = journalctl_argv(follow=args.follow, lines=args.lines)
    if shutil.which(argv[0]) is None:
        print("error: journalctl not found; the daemon logs to journald (or to its stderr)", file=sys.stderr)
        return 1
    out.flush()
    os.execvp(argv[0], argv)  # replaces this process; returns only by raising
    return 0  # pragma: no cover
