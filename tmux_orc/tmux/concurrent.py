"""The concurrent strategy: every capture pipelined over one control-mode connection, changed panes only.

A pane is captured again only when something tmux reports about it moved since its last capture:
``window_activity`` (tmux's time of the window's last output, in whole seconds), its size, title,
command, mode or death. Because the activity time has one-second resolution, a capture taken in the
same second as the last output cannot prove later output of that second was seen: such a pane stays
"maybe changed" until a capture lands in a later second.

A pane's screen goes through the control connection as lines of a reply, and tmux does not escape
them: a program can print ``%end TIME NUMBER 1`` (the numbers are guessable) and a whole forged reply
after it, which would end its own capture early and be taken as the next pane's screen. So a capture
must have exactly as many lines as the pane has rows, each batch ends with a nonce only tmux's real
reply can carry (else the whole batch is dropped and the connection made again), and a pane whose
screen shows such lines is captured by a subprocess, where there is no framing to forge.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from tmux_orc.core.strategy import CaptureResult
from tmux_orc.model import CONCURRENT_STRATEGY, PaneInfo
from tmux_orc.tmux.control import ControlClient, TmuxCommandError, TmuxDisconnected, TmuxTimeout
from tmux_orc.tmux.format import PANE_FORMAT, PaneRows
from tmux_orc.tmux.quoting import pane_target, quote
from tmux_orc.tmux.runner import TmuxError, run_tmux

PaneKey = tuple[float, int, int, str, str, bool, bool]
PARSE_BATCH = 100  # rows of list-panes parsed between turns of the event loop
_FRAME_LIKE = ("%begin ", "%end ", "%error ")  # screen lines tmux -C could be taken to frame a reply with
OUT_OF_STEP = "control replies out of step (a pane printed control-mode lines?); connection made again"


def holds_frame_lines(screen: str) -> bool:
    """True if a line of ``screen`` looks like a control-mode reply frame."""
    return any(line.startswith(_FRAME_LIKE) for line in screen.split("\n"))


def pane_key(pane: PaneInfo) -> PaneKey:
    """What tmux tells about a pane that changes whenever its screen may have changed."""
    return (
        pane.window_activity,
        pane.width,
        pane.height,
        pane.title,
        pane.current_command,
        pane.dead,
        pane.in_mode,
    )


@dataclass(frozen=True, slots=True)
class _Seen:
    """A pane's state at its last successful capture."""

    key: PaneKey
    settled: bool  # the capture started in a later second than the pane's last activity


async def list_panes(client: ControlClient, timeout: float | None = None,
                     rows: PaneRows | None = None) -> list[PaneInfo]:
    """Every pane of the server (``list-panes -a``) over the control connection; ``rows``: the
    server's last listing, whose unchanged rows are not parsed again."""
    lines = await client.command(f"list-panes -a -F {quote(PANE_FORMAT)}", timeout)
    rows = rows or PaneRows()
    panes: list[PaneInfo] = []
    try:
        for start in range(0, len(lines), PARSE_BATCH):
            if start:
                await asyncio.sleep(0)  # hundreds of rows: clients' calls are answered between batches
            panes += rows.parse(lines[start : start + PARSE_BATCH])
    except BaseException:  # failed or cancelled half way: what was parsed is not a whole listing
        rows.forget()
        raise
    rows.done()
    return panes


def screen_text(lines: list[str]) -> str:
    """Join ``capture-pane -p`` output lines the way the tmux command line prints them."""
    return "".join(line + "\n" for line in lines)


class ConcurrentStrategy:
    """Captures the panes that may have changed, all at once, each with its own timeout.

    The client belongs to the caller (who also calls ``client.ensure_connected()`` each cycle);
    :meth:`aclose` only forgets what this strategy remembered. When replies come back out of step it
    closes the connection, which that next ``ensure_connected()`` makes again.
    """

    name = CONCURRENT_STRATEGY

    def __init__(self, client: ControlClient, command_timeout: float) -> None:
        self.client = client
        self.command_timeout = command_timeout
        self._seen: dict[str, _Seen] = {}
        self._generation = client.generation
        self.last_captured = 0  # panes captured by the latest cycle (for metrics)
        self.apart: set[str] = set()  # panes whose screens show control-mode frames: captured by subprocess
        self.out_of_step = 0  # batches dropped because the replies were out of step

    def needs_capture(self, pane: PaneInfo) -> bool:
        """True if the pane's screen may differ from its last capture."""
        seen = self._seen.get(pane.pane_id)
        return seen is None or not seen.settled or seen.key != pane_key(pane)

    async def capture(self, panes: Sequence[PaneInfo], *, full: bool) -> CaptureResult:
        """Screens of the given panes that may have changed (all of them if ``full``)."""
        if self.client.generation != self._generation:  # another server: pane ids were reused
            self._generation = self.client.generation
            self._seen.clear()
        if not full:  # the cycle's call with every pane (a full one may be a reading of a few panes)
            current = {pane.pane_id for pane in panes}
            for gone in self._seen.keys() - current:
                del self._seen[gone]
            self.apart &= current
        todo = [pane for pane in panes if full or self.needs_capture(pane)]
        self.last_captured = len(todo)
        result = CaptureResult()
        if not todo:
            return result
        started = time.time()
        replies = await asyncio.gather(*(self._capture_apart(pane) if pane.pane_id in self.apart
                                         else self._capture_one(pane) for pane in todo))
        if any(pane.pane_id not in self.apart for pane in todo) and not await self._in_step():
            self.out_of_step += 1
            await self.client.close()  # attached again next cycle, in step
            replies = [reply if pane.pane_id in self.apart else (None, OUT_OF_STEP)
                       for pane, reply in zip(todo, replies, strict=True)]
        second = math.floor(started)
        for pane, (screen, error) in zip(todo, replies, strict=True):
            if screen is not None and not holds_frame_lines(screen):
                self.apart.discard(pane.pane_id)
            elif screen is not None:
                self.apart.add(pane.pane_id)
            if screen is not None:
                result.screens[pane.pane_id] = screen
                self._seen[pane.pane_id] = _Seen(pane_key(pane), settled=second > pane.window_activity)
            else:
                result.errors[pane.pane_id] = error
                self._seen.pop(pane.pane_id, None)
        return result

    async def _capture_one(self, pane: PaneInfo) -> tuple[str | None, str]:
        try:
            lines = await self.client.command(f"capture-pane -p -t {quote(pane.pane_id)}", self.command_timeout)
        except TmuxTimeout:
            return None, f"capture timed out after {self.command_timeout:g}s"
        except (TmuxCommandError, TmuxDisconnected) as exc:
            return None, str(exc) or type(exc).__name__
        if len(lines) != pane.height:  # cut short or lengthened by lines the pane printed (or just resized)
            self.apart.add(pane.pane_id)
            return None, f"capture had {len(lines)} lines for a pane of {pane.height} rows"
        return screen_text(lines), ""

    async def _capture_apart(self, pane: PaneInfo) -> tuple[str | None, str]:
        """Capture with a subprocess of its own: nothing a screen holds can frame other replies there."""
        if self.client.socket_name and not self.client.socket_path:
            return None, "not captured: its screen shows control-mode lines (and no socket path for a subprocess)"
        try:
            return await run_tmux("capture-pane", "-p", "-t", pane_target(pane.pane_id),
                                  socket=self.client.socket_path, timeout=self.command_timeout), ""
        except TimeoutError:
            return None, f"capture timed out after {self.command_timeout:g}s"
        except TmuxError as exc:
            return None, str(exc) or type(exc).__name__

    async def _in_step(self) -> bool:
        """Do replies still answer their own requests? A nonce only tmux's real reply can echo."""
        nonce = secrets.token_hex(8)
        try:
            return await self.client.command(f"display-message -p {nonce}", self.command_timeout) == [nonce]
        except (TmuxTimeout, TmuxCommandError, TmuxDisconnected):
            return False

    async def aclose(self) -> None:
        """Forget every pane (the control client is closed by its owner)."""
        self._seen.clear()
