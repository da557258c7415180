"""tmux's side of the core's :class:`~tmux_orc.core.ports.PaneActions`: the rare commands that change
panes (recovery opens and closes windows, alerts paste into prompts), one subprocess each.

Pane ids are checked to be ``%N``; names, paths and texts are passed as single argv arguments.
"""

from __future__ import annotations

import functools

from tmux_orc.core.ports import OpenedWindow
from tmux_orc.tmux import commands, pm_delivery
from tmux_orc.tmux.commands import one_value
from tmux_orc.tmux.pm_delivery import RunTmux, check_pane_id
from tmux_orc.tmux.runner import TmuxError, run_tmux


class TmuxPaneActions:
    """Pane actions on one tmux server, each bounded by ``timeout`` seconds.

    ``run`` replaces the subprocess runner (argv-style, socket and timeout bound), e.g. in tests.
    """

    def __init__(self, socket: str | None, timeout: float, *, enter_delay: float = 0.3,
                 run: RunTmux | None = None) -> None:
        self.socket = socket
        self.timeout = timeout
        self.enter_delay = enter_delay
        self._run: RunTmux = run or functools.partial(run_tmux, socket=socket, timeout=timeout)

    async def pane_pid(self, pane_id: str) -> int | None:
        """The pid of the pane's first process, None when tmux no longer has that pane."""
        try:
            out = one_value(await self._run(*commands.display_value(pane_id, "pane_pid")))
        except TmuxError:
            return None
        return int(out) if out.isdigit() else None

    async def pane_path(self, pane_id: str) -> str:
        """The pane's working directory as tmux knows it ("" when unknown)."""
        return one_value(await self._run(*commands.display_value(pane_id, "pane_current_path")))

    async def open_window(self, session_id: str, session: str, name: str, start_dir: str,
                          command: str) -> OpenedWindow:
        """``new-window -d`` running ``command``, then the user's shell when it exits; name and
        directory kept exactly (:func:`commands.new_window`)."""
        args = commands.new_window(session_id, session, name, start_dir,
                                   f"{command}; exec \"${{SHELL:-/bin/sh}}\"")
        # tmux gives a new window the PATH of the client that asks for it: the user's (the server's
        # global one), not the service's, must find the agent CLI.
        path = await self.server_path()
        out = await self._run(*args, env={"PATH": path} if path else None)
        pane_id, pid, index = [*out.split(), "", "", ""][:3]
        check_pane_id(pane_id)
        return OpenedWindow(pane_id, int(pid) if pid.isdigit() else 0, int(index) if index.isdigit() else 0)

    async def server_path(self) -> str:
        """PATH in the tmux server's global environment (the user's), "" when it has none."""
        try:
            out = await self._run("show-environment", "-g", "PATH")
        except TmuxError:
            return ""
        line = out.strip()
        return line[len("PATH="):] if line.startswith("PATH=") else ""

    async def kill_pane(self, pane_id: str) -> None:
        """``kill-pane``: the pane and its processes go."""
        await self._run(*commands.kill_pane(pane_id))

    async def paste(self, pane_id: str, text: str) -> None:
        """One bracketed paste of ``text``, then Enter (:func:`pm_delivery.paste_message`)."""
        await pm_delivery.paste_message(self._run, pane_id, text, enter_delay=self.enter_delay)

    async def press_enter(self, pane_id: str) -> None:
        """Enter in ``pane_id``."""
        await pm_delivery.press_enter(self._run, pane_id)
