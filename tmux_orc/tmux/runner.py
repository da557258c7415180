"""Run one tmux command as a subprocess: the simple path used by the polling strategy and rare actions.

Never starts a tmux server: callers only pass commands that need a running server, and the
environment handed to tmux is stripped of the service manager's variables (tmux copies its
environment into every pane it creates).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping

from tmux_orc.core.ports import PaneIOError, ServerUnavailable

TMUX = "tmux"

SERVICE_ONLY_VARIABLES = (
    "NOTIFY_SOCKET",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
    "INVOCATION_ID",
    "JOURNAL_STREAM",
    "LISTEN_FDS",
    "LISTEN_PID",
    "LISTEN_FDNAMES",
    "MAINPID",
    "MANAGERPID",
)


class TmuxError(PaneIOError):
    """tmux answered with an error (its message is kept)."""


class TmuxUnavailable(TmuxError, ServerUnavailable):
    """No tmux server is running on that socket (or tmux is not installed)."""


def clean_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for anything the daemon spawns, without systemd's per-service variables."""
    source = os.environ if env is None else env
    return {k: v for k, v in source.items() if k not in SERVICE_ONLY_VARIABLES and k != "TMUX"}


def tmux_argv(socket: str | None, *args: str) -> list[str]:
    """``tmux -u [-S socket] ARGS...`` as an argv list (``-u``: UTF-8 whatever the locale, or tmux
    prints every non-ASCII character of a name or a screen as ``_``)."""
    base = [TMUX, "-u"]
    if socket:
        base += ["-S", socket]
    return [*base, *args]


_NO_SERVER_HINTS = ("no server running", "error connecting to", "No such file or directory")


async def run_tmux(*args: str, socket: str | None, timeout: float = 2.0, stdin: bytes | None = None,
                   env: Mapping[str, str] | None = None) -> str:
    """Run ``tmux [-S socket] ARGS...``; return stdout. Raises TmuxError / TmuxUnavailable / TimeoutError.

    ``env``: variables set for this tmux client on top of the daemon's (cleaned) environment.
    """
    try:
        proc = await asyncio.create_subprocess_exec(
            *tmux_argv(socket, *args),
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**clean_environment(), **(env or {})},
        )
    except FileNotFoundError as exc:
        raise TmuxUnavailable("tmux is not installed") from exc
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), timeout)
    except BaseException:  # our timeout, or the caller's cancellation: never leave a tmux client behind
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await asyncio.shield(proc.wait())
        raise
    if proc.returncode != 0:
        message = err.decode("utf-8", "replace").strip() or f"tmux exited {proc.returncode}"
        if any(hint in message for hint in _NO_SERVER_HINTS):
            raise TmuxUnavailable(message)
        raise TmuxError(message)
    return out.decode("utf-8", "replace")
