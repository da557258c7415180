"""Pasting text into a pane through tmux: one bracketed paste from a named buffer, then Enter.

The decision to paste (is the prompt empty? was the message submitted?) is the core's
(:mod:`tmux_orc.core.delivery`, reading the screen with :mod:`tmux_orc.detect.prompt`); this module only
moves the bytes, so that nothing in the text can end the paste early, drive the agent's UI or reach
tmux as a command.

``run_tmux`` is the tmux command runner with the socket and timeout already bound, e.g.
``functools.partial(runner.run_tmux, socket=sock, timeout=2.0)``; it takes argv-style arguments
(no shell, no tmux command parsing beyond tmux's own handling of a trailing ``;``).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
from collections.abc import Awaitable, Callable

from tmux_orc.detect.screen import strip_escapes
from tmux_orc.tmux.quoting import literal_arg

RunTmux = Callable[..., Awaitable[str]]

BUFFER_PREFIX = "tmux-orc-"
MAX_TEXT_BYTES = 8000  # tmux refuses commands much longer than ~16 KiB

_PANE_ID = re.compile(r"^%\d+$")
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # every control character but the newline


def clean_text(text: str) -> str:
    """Text safe to paste: no escape sequences or control characters but newlines (tabs become spaces),
    so it cannot end the bracketed paste early or drive the agent's UI.

    >>> clean_text("a\\x1b[201~b\\tc\\r\\nd\\x00")
    'ab c\\nd'
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _CONTROL.sub("", strip_escapes(text).replace("\x1b", ""))


def check_pane_id(pane_id: str) -> None:
    """Raise ValueError unless ``pane_id`` is a tmux pane id (``%N``)."""
    if not _PANE_ID.match(pane_id):
        raise ValueError(f"not a tmux pane id: {pane_id!r} (expected %N)")


async def paste_message(run_tmux: RunTmux, pane_id: str, text: str, *, enter_delay: float = 0.3) -> None:
    """Paste ``text`` into ``pane_id`` as one bracketed paste, then press Enter.

    The caller checks the prompt first (:func:`tmux_orc.core.delivery.deliver` does). Raises ValueError
    for a bad pane id or an empty or oversized text; tmux errors propagate (the buffer is removed
    either way).
    """
    check_pane_id(pane_id)
    body = clean_text(text)
    if not body.strip():
        raise ValueError("nothing to paste")
    if len(body.encode()) > MAX_TEXT_BYTES:
        raise ValueError(f"message of {len(body.encode())} bytes is over {MAX_TEXT_BYTES}")
    name = BUFFER_PREFIX + secrets.token_hex(6)
    await run_tmux("set-buffer", "-b", name, "--", literal_arg(body))
    try:
        # -p: bracketed paste when the agent asked for it; -d: delete the buffer; LF are sent as CR.
        await run_tmux("paste-buffer", "-p", "-d", "-b", name, "-t", pane_id)
    except BaseException:
        with contextlib.suppress(Exception):  # best effort: the paste's own error is what propagates
            await run_tmux("delete-buffer", "-b", name)
        raise
    if enter_delay > 0:
        await asyncio.sleep(enter_delay)  # some agents take an Enter glued to a paste as a newline
    await press_enter(run_tmux, pane_id)


async def press_enter(run_tmux: RunTmux, pane_id: str) -> None:
    """Send the Enter key to ``pane_id``."""
    check_pane_id(pane_id)
    await run_tmux("send-keys", "-t", pane_id, "Enter")
