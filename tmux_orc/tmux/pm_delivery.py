"""Deliver a message into a PM's pane without touching what someone typed there.

A message is pasted only into an empty prompt (:func:`prompt_is_empty`, a pure check of the captured
screen), as one bracketed paste from a named buffer, then submitted with Enter. The next cycle checks
that it left the prompt (:func:`message_submitted`) and presses Enter again a bounded number of times.

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
from dataclasses import dataclass
from enum import StrEnum

from tmux_orc.model import Kind
from tmux_orc.tmux.quoting import literal_arg

RunTmux = Callable[..., Awaitable[str]]

BUFFER_PREFIX = "tmux-orc-"
MAX_TEXT_BYTES = 8000  # tmux refuses commands much longer than ~16 KiB
MAX_ENTERS = 3
PROMPT_REGION = 20  # lines from the bottom where a prompt is looked for

_PANE_ID = re.compile(r"^%\d+$")
_CONTROL = re.compile("\x1b(?:\\[[0-?]*[ -/]*[@-~])?|[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_MARKERS: dict[Kind, re.Pattern[str]] = {
    Kind.CLAUDE: re.compile(r"^(?:❯|>)(?:\s+|$)"),
    Kind.CODEX: re.compile(r"^(?:›|❯|>)(?:\s+|$)"),
    Kind.GEMINI: re.compile(r"^>(?:\s+|$)"),
    Kind.AIDER: re.compile(r"^(?:[\w-]+)?>(?:\s+|$)"),
}
# Text an agent shows in its empty prompt (dimmed on screen, plain in a capture).
# Codex picks one of a few fixed suggestions; matched whole, so a draft like "Write tests for @x.py" is text.
_CODEX_SUGGESTIONS = (
    "Ask Codex to do anything", "Implement {feature}", "Write tests for @filename", "Explain this codebase",
    "Summarize recent commits", "Find and fix a bug in @filename", "Improve documentation in @filename",
)
_PLACEHOLDERS: dict[Kind, re.Pattern[str]] = {
    Kind.CLAUDE: re.compile(r'^(?:Try ".*"|Resend your message to try again)$'),
    Kind.CODEX: re.compile("^(?:" + "|".join(re.escape(t) for t in _CODEX_SUGGESTIONS) + ")$"),
    Kind.GEMINI: re.compile(r"^Type your message"),
}
_BOX_SIDES = "│┃║"
_RULE = re.compile(r"^[\s─━═╭╮╰╯┌┐└┘▔▁-]*[─━═]{3,}[\s─━═╭╮╰╯┌┐└┘▔▁-]*$")


class DeliveryRefused(Exception):
    """The PM's prompt is not empty (someone is typing) or no prompt was found: nothing was pasted."""


class Step(StrEnum):
    DONE = "done"  # the message left the prompt
    ENTER = "enter"  # still in the prompt: press Enter again
    FAILED = "failed"  # still there after MAX_ENTERS presses: leave it to a person


# --- pure screen checks ------------------------------------------------------------------------------
def _kind(kind: Kind | str) -> Kind:
    try:
        return Kind(kind)
    except ValueError:
        return Kind.UNKNOWN


def _unbox(line: str) -> str:
    return line.replace("\xa0", " ").strip().strip(_BOX_SIDES).strip()


def prompt_content(screen: str, kind: Kind | str) -> str | None:
    """The text in the agent's input prompt near the bottom of ``screen``; None if no prompt is seen."""
    marker = _MARKERS.get(_kind(kind))
    if marker is None:  # a shell or an unknown program: never treat anything as its prompt
        return None
    lines = screen.rstrip("\n").split("\n")
    for i in range(len(lines) - 1, max(-1, len(lines) - 1 - PROMPT_REGION), -1):
        body = _unbox(lines[i])
        match = marker.match(body)
        if not match:
            continue
        parts = [body[match.end():].strip()]
        for line in lines[i + 1:]:  # more lines of the input, up to the frame's edge or a blank line
            if not line.strip() or _RULE.match(line.replace("\xa0", " ")):
                break
            parts.append(_unbox(line))
        return "\n".join(p for p in parts if p)
    return None


def prompt_is_empty(screen: str, kind: Kind | str) -> bool:
    """True only when a prompt is visible and holds nothing but the agent's own placeholder."""
    content = prompt_content(screen, kind)
    if content is None:
        return False
    if not content:
        return True
    placeholder = _PLACEHOLDERS.get(_kind(kind))
    return placeholder is not None and "\n" not in content and bool(placeholder.match(content))


def message_submitted(screen_before: str, screen_after: str, text: str,
                      kind: Kind | str = Kind.CLAUDE) -> bool:
    """Did ``text`` leave the prompt? False while it (or the agent's "[Pasted text" stand-in) sits there."""
    content = prompt_content(screen_after, kind)
    if content is None:  # no prompt in view: the agent went on to something else, if the screen moved
        return screen_after != screen_before
    if prompt_is_empty(screen_after, kind):
        return True
    flat = " ".join(content.split())
    head = " ".join(clean_text(text).split())[:16]
    return not (flat.startswith("[Pasted text") or (head and head in flat))


# --- tmux side ---------------------------------------------------------------------------------------
def clean_text(text: str) -> str:
    """Text safe to paste: no escape sequences or control characters but newlines (tabs become spaces),
    so it cannot end the bracketed paste early or drive the agent's UI."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _CONTROL.sub("", text)


def _check_pane(pane_id: str) -> None:
    if not _PANE_ID.match(pane_id):
        raise ValueError(f"not a tmux pane id: {pane_id!r} (expected %N)")


async def paste_message(run_tmux: RunTmux, pane_id: str, text: str, *, enter_delay: float = 0.3) -> None:
    """Paste ``text`` into ``pane_id`` as one bracketed paste, then press Enter.

    Check the prompt first (:func:`deliver` does). Raises ValueError for a bad pane id or an empty or
    oversized text; tmux errors propagate (the buffer is removed either way).
    """
    _check_pane(pane_id)
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
        with contextlib.suppress(Exception):
            await run_tmux("delete-buffer", "-b", name)
        raise
    if enter_delay > 0:
        await asyncio.sleep(enter_delay)  # some agents take an Enter glued to a paste as a newline
    await press_enter(run_tmux, pane_id)


async def press_enter(run_tmux: RunTmux, pane_id: str) -> None:
    _check_pane(pane_id)
    await run_tmux("send-keys", "-t", pane_id, "Enter")


@dataclass(slots=True)
class Submission:
    """A pasted message waiting to be seen submitted; feed it each later capture of the pane."""

    pane_id: str
    text: str
    kind: Kind
    screen_before: str
    enters: int = 1

    def check(self, screen_now: str) -> Step:
        if message_submitted(self.screen_before, screen_now, self.text, self.kind):
            return Step.DONE
        return Step.FAILED if self.enters >= MAX_ENTERS else Step.ENTER

    async def retry_enter(self, run_tmux: RunTmux) -> None:
        self.enters += 1
        await press_enter(run_tmux, self.pane_id)


async def deliver(run_tmux: RunTmux, pane_id: str, text: str, screen: str, kind: Kind,
                  *, enter_delay: float = 0.3) -> Submission:
    """Paste ``text`` if ``screen`` (a capture taken just before) shows an empty prompt.

    Raises :class:`DeliveryRefused` otherwise: whatever someone typed stays untouched. (A key typed
    between that capture and the paste lands before the message; the window is one tmux round trip.)
    """
    if not prompt_is_empty(screen, kind):
        found = prompt_content(screen, kind)
        why = "no input prompt in view" if found is None else "the prompt is not empty"
        raise DeliveryRefused(f"not delivering to {pane_id}: {why}")
    await paste_message(run_tmux, pane_id, text, enter_delay=enter_delay)
    return Submission(pane_id, text, kind, screen)
