"""``tmux-orc hook EVENT [PAYLOAD]``: forward an agent hook (Claude Code, Gemini, Qwen, Codex notify) to the daemon.

``tmux-orc hooks install`` writes the settings that call it. Claude Code runs ``tmux-orc hook
Notification`` with the hook's JSON on stdin; Codex runs ``tmux-orc hook codex-notify '<JSON>'`` (its
``notify`` program gets the JSON as its last argument). The pane is ``$TMUX_PANE`` and the tmux server
is the socket path in ``$TMUX`` (its first comma-separated field): the daemon files the event on that
server's pane, or refuses it.

A hook must never slow or break its agent: whatever the bus does (absent, silent, refusing), this
command is done within :data:`HARD_DEADLINE` seconds of its process starting (on a machine so loaded
that start-up alone takes longer, some 0.3 s after it is up), exits 0 and prints nothing on stdout
(Claude Code adds some hooks' stdout to the conversation). When the event cannot be delivered it prints
one warning line on stderr. It never lets the bus start the daemon (``NO_AUTO_START``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import select
import signal
import sys
import time
from collections.abc import Mapping
from types import FrameType
from typing import Any, TextIO

from tmux_orc.busnames import EVENT_SERVER_KEY
from tmux_orc.cli.hooks import codex
from tmux_orc.client import DaemonError, DaemonUnreachable, MonitorClient, string_variants

MAX_INPUT_BYTES = 1024 * 1024  # parsed as JSON up to this; more is drained and dropped
SCAN_BYTES = 64 * 1024  # a cut-off input is searched for its top-level fields in its first bytes
# Seconds since this process started (interpreter start-up and imports included):
STDIN_DEADLINE = 0.2  # stop reading stdin
BUS_DEADLINE = 0.4  # give up on the bus
HARD_DEADLINE = 0.45  # exit 0 whatever is still running
# ... but never less than this for our own work once Python is up (a machine so loaded that start-up
# alone took longer still gets the event delivered, and the hook's own part stays this short):
OWN_STDIN_WINDOW = 0.05
OWN_BUS_WINDOW = 0.25
MAX_DETAILS = 31  # the daemon takes 32 details: one is left for the tmux server
MAX_VALUE_CHARS = 2000
#: Fields worth keeping from an input too big to parse (Claude Code puts them before ``tool_input``).
KNOWN_FIELDS = ("session_id", "hook_event_name", "notification_type", "message", "title", "tool_name",
                "cwd", "permission_mode", "source", "type")
_FIELD = re.compile(r'"(?P<key>[a-z_-]{1,40})"\s*:\s*"(?P<value>(?:[^"\\]|\\.){0,2000})"')


def read_hook_input(fd: int, *, deadline: float, limit: int = MAX_INPUT_BYTES) -> bytes:
    """What the hook runner wrote on ``fd`` until EOF or ``deadline`` (a ``time.monotonic()`` value):
    the first ``limit`` bytes (the rest is read and dropped, so the writer never blocks on us);
    nothing when ``fd`` is a terminal or closed."""
    try:
        if os.isatty(fd):
            return b""
        chunks: list[bytes] = []
        kept = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            if kept < limit:
                chunks.append(chunk[: limit - kept])
                kept += len(chunks[-1])
        return b"".join(chunks)
    except (OSError, ValueError):
        return b""


def hook_details(raw: bytes) -> dict[str, str]:
    """The hook input as string details: the JSON object's scalar fields (``message``,
    ``hook_event_name``, ``notification_type``, ``session_id``, ...), bounded in number and length.

    >>> hook_details(b'{"hook_event_name": "Notification", "notification_type": "idle_prompt", "n": 2}')
    {'hook_event_name': 'Notification', 'notification_type': 'idle_prompt', 'n': '2'}
    >>> hook_details(b"not json")
    {'input': 'not json'}
    """
    text = raw.decode("utf-8", errors="replace").strip()
    if not text:
        return {}
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        if text.startswith("{"):  # cut off or broken JSON: keep the fields we know
            return _scanned_fields(text[:SCAN_BYTES])
        return {"input": text[:MAX_VALUE_CHARS]}
    if not isinstance(parsed, dict):
        return {"input": text[:MAX_VALUE_CHARS]}
    details: dict[str, str] = {}
    for key, value in parsed.items():
        if len(details) >= MAX_DETAILS:
            break
        if isinstance(value, bool):
            details[str(key)[:64]] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            details[str(key)[:64]] = str(value)[:MAX_VALUE_CHARS]
    return details


def _scanned_fields(text: str) -> dict[str, str]:
    details: dict[str, str] = {}
    for found in _FIELD.finditer(text):
        key = found.group("key")
        if key in KNOWN_FIELDS and key not in details:
            try:
                details[key] = str(json.loads(f'"{found.group("value")}"'))[:MAX_VALUE_CHARS]
            except ValueError:
                continue
    return details or {"input": text[:MAX_VALUE_CHARS]}


def tmux_server(env: Mapping[str, str]) -> str:
    """The socket path of the tmux server this process runs under: ``$TMUX``'s first field, or ""."""
    return env.get("TMUX", "").split(",", 1)[0].strip()


async def report_event(target: str, event: str, details: dict[str, str], deadline: float) -> None:
    """One ``ReportEvent`` call, all of it (connect included) done by ``deadline`` (monotonic)."""

    async def call() -> None:
        # The client's own timeouts are a little longer: the deadline below is the one that fires.
        async with MonitorClient(timeout=max(deadline - time.monotonic(), 0.01) + 0.05, auto_start=False) as client:
            await client.call("ReportEvent", "ssa{sv}", [target, event, string_variants(details)])

    try:
        await asyncio.wait_for(call(), max(deadline - time.monotonic(), 0.01))
    except TimeoutError:
        raise DaemonUnreachable(
            f"the session bus or the daemon did not answer in time (a hook gives up {BUS_DEADLINE:g} s after it starts)"
        ) from None


def process_age() -> float:
    """Seconds since this process started (from ``/proc/self/stat``; 0 when it cannot be read)."""
    try:
        with open("/proc/self/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime, in ticks since boot
        return max(0.0, time.clock_gettime(time.CLOCK_BOOTTIME) - started)
    except (OSError, ValueError, IndexError):
        return 0.0


def run_hook(args: argparse.Namespace, out: TextIO) -> int:
    """Report the event; warn on stderr, never fail, be done in time (see the module's docstring)."""
    now = time.monotonic()
    started = now - process_age()
    bus_deadline = max(started + BUS_DEADLINE, now + OWN_BUS_WINDOW)
    stdin_deadline = max(started + STDIN_DEADLINE, now + OWN_STDIN_WINDOW)
    previous = _arm_hard_deadline(args.event, bus_deadline + HARD_DEADLINE - BUS_DEADLINE - now)
    try:
        _report(args, stdin_deadline, bus_deadline)
    except Exception as exc:  # noqa: BLE001 - a hook must never break the agent, whatever went wrong
        _warn(f"{args.event} not reported: {type(exc).__name__}: {exc}")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        with contextlib.suppress(TypeError, ValueError):
            signal.signal(signal.SIGALRM, previous)
    return 0


def _report(args: argparse.Namespace, stdin_deadline: float, bus_deadline: float) -> None:
    payload: str | None = getattr(args, "payload", None)
    if payload is not None:
        details = hook_details(payload.encode("utf-8", errors="replace")[:MAX_INPUT_BYTES])
    else:
        try:
            fd = sys.stdin.fileno()
        except (OSError, ValueError, AttributeError):  # no usable stdin at all
            fd = -1
        details = hook_details(read_hook_input(fd, deadline=stdin_deadline)) if fd >= 0 else {}
    event = codex.event_name(args.event, details)
    target = os.environ.get("TMUX_PANE", "")
    if not target:
        _warn(f"$TMUX_PANE is not set (not inside tmux?); {event} not reported")
        return
    server = tmux_server(os.environ)
    if server:
        details[EVENT_SERVER_KEY] = server
    try:
        asyncio.run(report_event(target, event, details, bus_deadline))
    except DaemonUnreachable as exc:
        _warn(f"{event} not reported: {exc}")
    except DaemonError as exc:
        _warn(f"{event} not reported: {exc.message} ({exc.short_name})")


def _arm_hard_deadline(event: str, seconds: float) -> Any:
    """Whatever blocks (a bus that accepts and never answers, a stuck read), exit 0 in ``seconds``."""

    def give_up(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(OSError):
            os.write(2, f"tmux-orc hook: {event} not reported: out of time\n".encode())
        os._exit(0)

    try:
        previous = signal.signal(signal.SIGALRM, give_up)
    except ValueError:  # not the main thread (tests calling run_hook from a worker): no timer
        return signal.SIG_DFL
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01))
    return previous


def _warn(message: str) -> None:
    with contextlib.suppress(OSError):
        print(f"tmux-orc hook: {message}", file=sys.stderr)
