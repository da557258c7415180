"""Qwen Code's hooks, as ``tmux-orc hooks`` writes them into ``settings.json`` (pure functions).

Qwen Code (0.24.4 read here; hooks are on unless ``disableAllHooks``, bare or safe mode) reads
``$QWEN_HOME/settings.json`` (default ``~/.qwen/settings.json``). Its hooks follow Claude Code's: the
same shape (:mod:`~tmux_orc.cli.hooks.jsonhooks`), the same event names and ``notification_type``
values (``permission_prompt``, ``idle_prompt``), ``timeout`` in seconds. When a hook prints nothing on
stdout, Qwen Code shows its stderr in the conversation: our handler's stderr goes to /dev/null.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from tmux_orc.cli.hooks.jsonhooks import JsonHooks

NAME = "qwen"
EVENTS = ("PermissionRequest", "Notification", "Stop", "UserPromptSubmit", "SessionStart")  # as Claude Code's
HOOK_TIMEOUT_S = 5
HOOKS = JsonHooks(EVENTS, HOOK_TIMEOUT_S, quiet=True)


def settings_path(env: Mapping[str, str]) -> Path:
    """``$QWEN_HOME/settings.json``, else ``$HOME/.qwen/settings.json``."""
    qwen_home = env.get("QWEN_HOME", "")
    if qwen_home:
        return Path(qwen_home) / "settings.json"
    return Path(env.get("HOME") or os.path.expanduser("~")) / ".qwen" / "settings.json"
