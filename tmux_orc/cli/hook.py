"""``tmux-orc hook EVENT``: forward an agent hook (e.g. Claude Code's Notification / Stop) to the daemon.

Used from Claude Code's settings.json, for example::

    "hooks": {"Notification": [{"hooks": [{"type": "command", "command": "tmux-orc hook Notification"}]}]}

The hook's JSON arrives on stdin; the pane is ``$TMUX_PANE``. A hook must never break the agent: this
command always exits 0 and prints nothing on stdout (Claude Code adds some hooks' stdout to the
conversation); when the event cannot be delivered it prints one warning line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import select
import sys
import time
from typing import Any, TextIO

from tmux_orc.client import DaemonError, DaemonUnreachable, MonitorClient, string_variants

MAX_INPUT_BYTES = 64 * 1024
INPUT_WAIT_SECONDS = 1.0
MAX_DETAILS = 32
MAX_VALUE_CHARS = 2000
HOOK_CALL_TIMEOUT = 3.0


def read_hook_input(fd: int, *, limit: int = MAX_INPUT_BYTES, wait: float = INPUT_WAIT_SECONDS) -> bytes:
    """What the hook runner wrote on ``fd``: at most ``limit`` bytes, waiting at most ``wait`` seconds
    in all; nothing when ``fd`` is a terminal or closed."""
    try:
        if os.isatty(fd):
            return b""
        chunks: list[bytes] = []
        received = 0
        deadline = time.monotonic() + wait
        while received < limit:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                break
            chunk = os.read(fd, min(65536, limit - received))
            if not chunk:
                break
            chunks.append(chunk)
            received += len(chunk)
        return b"".join(chunks)
    except (OSError, ValueError):
        return b""


def hook_details(raw: bytes) -> dict[str, str]:
    """The hook input as string details: the JSON object's scalar fields (``message``,
    ``hook_event_name``, ``session_id``, ...), bounded in number and length."""
    text = raw.decode("utf-8", errors="replace").strip()
    if not text:
        return {}
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        return {"input": text[:MAX_VALUE_CHARS]}
    if not isinstance(parsed, dict):
        return {"input": text[:MAX_VALUE_CHARS]}
    details: dict[str, str] = {}
    for key, value in parsed.items():
        if len(details) >= MAX_DETAILS:
            break
        if isinstance(value, bool):
            details[str(key)] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            details[str(key)] = str(value)[:MAX_VALUE_CHARS]
    return details


async def report_event(target: str, event: str, details: dict[str, str], timeout: float) -> None:
    async with MonitorClient(timeout=timeout) as client:
        await client.call("ReportEvent", "ssa{sv}", [target, event, string_variants(details)])


def run_hook(args: argparse.Namespace, out: TextIO) -> int:
    """Report the event; warn on stderr, never fail."""
    try:
        details = hook_details(read_hook_input(sys.stdin.fileno()))
    except (OSError, ValueError, AttributeError):  # no usable stdin at all
        details = {}
    target = os.environ.get("TMUX_PANE", "")
    if not target:
        _warn(f"$TMUX_PANE is not set (not inside tmux?); {args.event} not reported")
        return 0
    try:
        asyncio.run(report_event(target, args.event, details, HOOK_CALL_TIMEOUT))
    except DaemonUnreachable as exc:
        _warn(f"{args.event} not reported: {exc}")
    except DaemonError as exc:
        _warn(f"{args.event} not reported: {exc.message} ({exc.short_name})")
    except Exception as exc:  # a hook must never break the agent, whatever went wrong
        _warn(f"{args.event} not reported: {type(exc).__name__}: {exc}")
    return 0


def _warn(message: str) -> None:
    with contextlib.suppress(OSError):
        print(f"tmux-orc hook: {message}", file=sys.stderr)
