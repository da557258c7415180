"""The ports of the monitor core: what it needs from the outside world, as small protocols it owns.

The core never imports ``tmux_orc.tmux`` or ``tmux_orc.service``: the composition root
(:mod:`tmux_orc.service.compose`) hands it objects that satisfy these protocols, and ``tmux/``
implements them. Tests hand it fakes or the real tmux adapters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from tmux_orc.model import PaneInfo
from tmux_orc.procfs import ProcessTable


class PaneIOError(Exception):
    """A pane operation failed at the terminal server (its message is kept)."""


class ServerUnavailable(PaneIOError):
    """No terminal server answers (none running on the socket, or the program is not installed)."""


class PaneSource(Protocol):
    """Where a cycle's list of every pane comes from."""

    async def list_panes(self) -> list[PaneInfo]:
        """Every pane of the terminal server, in all its sessions."""
        ...


@dataclass(frozen=True, slots=True)
class OpenedWindow:
    """A window the core asked for: its first pane and where it landed."""

    pane_id: str
    pane_pid: int
    window_index: int


class PaneActions(Protocol):
    """What the core does to panes: recovery opens and closes them, alerts type into them.

    Names, paths and texts are data: an implementation passes them so that the terminal server never
    reads them as formats or commands. Failures raise :class:`PaneIOError` or ``TimeoutError``.
    """

    async def pane_pid(self, pane_id: str) -> int | None:
        """The pid of the pane's first process, None when the pane is gone."""
        ...

    async def pane_path(self, pane_id: str) -> str:
        """The pane's current working directory ("" when unknown)."""
        ...

    async def open_window(self, session_id: str, session: str, name: str, start_dir: str,
                          command: str) -> OpenedWindow:
        """Start ``command`` (then a shell) in a new detached window ``name`` of the session (by id,
        else by exact name)."""
        ...

    async def kill_pane(self, pane_id: str) -> None:
        """Close the pane and whatever runs in it."""
        ...

    async def paste(self, pane_id: str, text: str) -> None:
        """Paste ``text`` into the pane as one bracketed paste, then press Enter."""
        ...

    async def press_enter(self, pane_id: str) -> None:
        """Press Enter in the pane."""
        ...


ProcessReader = Callable[[Sequence[int]], ProcessTable]
"""Reads the process trees under the given pids (the panes'): one reading shared by a whole cycle."""

ProcessProbe = Callable[[Sequence[int]], Mapping[int, str]]
"""The state letter of each of these processes that exists (one ``stat`` read each): whether an
agent kept from an earlier reading of its pane's tree is still alive, stopped or gone (core.trees)."""

Clock = Callable[[], float]
"""Wall-clock seconds since the epoch (``time.time`` in the daemon, a fake in tests)."""
