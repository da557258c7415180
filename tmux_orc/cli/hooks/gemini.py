"""Gemini CLI's hooks, as ``tmux-orc hooks`` writes them into ``settings.json`` (pure functions).

Gemini CLI (0.30.1 and 0.61.0 read here; hooks are on by default: ``hooksConfig.enabled``)
reads ``$GEMINI_CLI_HOME/.gemini/settings.json`` (default ``~/.gemini/settings.json``), whose ``hooks``
key has Claude Code's shape (:mod:`~tmux_orc.cli.hooks.jsonhooks`) with a ``timeout`` in milliseconds
and a ``name`` (``/hooks disable tmux-orc`` turns ours off). Its events have names of their own;
the JSON on stdin carries ``hook_event_name``, ``session_id``, ``cwd`` and, for ``Notification``,
``notification_type`` (``ToolPermission`` when a tool waits for approval) and ``message``.

Gemini CLI waits for a hook (ours is done in < 0.5 s) and, when the hook prints nothing on stdout,
shows its stderr in the conversation: our handler's stderr goes to /dev/null. With
``security.environmentVariableRedaction`` on, hooks get a reduced environment: ``TMUX``,
``TMUX_PANE`` and ``DBUS_SESSION_BUS_ADDRESS`` must then be in its ``allowed`` list.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from tmux_orc.cli.hooks.jsonhooks import JsonHooks

NAME = "gemini"
#: A session (re)started, a prompt submitted (BeforeAgent), a turn done (AfterAgent), a tool waiting
#: for approval (Notification ``ToolPermission``).
EVENTS = ("SessionStart", "BeforeAgent", "AfterAgent", "Notification")
HOOK_TIMEOUT_MS = 5000
HOOKS = JsonHooks(EVENTS, HOOK_TIMEOUT_MS, quiet=True, extra={"name": "tmux-orc"})


def settings_path(env: Mapping[str, str]) -> Path:
    """``$GEMINI_CLI_HOME/.gemini/settings.json``, else ``$HOME/.gemini/settings.json``."""
    home = env.get("GEMINI_CLI_HOME", "") or env.get("HOME") or os.path.expanduser("~")
    return Path(home) / ".gemini" / "settings.json"
