"""Claude Code's hooks, as ``tmux-orc hooks`` writes them into ``settings.json`` (pure functions).

Claude Code reads ``$CLAUDE_CONFIG_DIR/settings.json`` (default ``~/.claude/settings.json``); the shape
of its ``hooks`` key and what is ours in it are in :mod:`~tmux_orc.cli.hooks.jsonhooks`. The command
gets the hook's JSON on stdin (``session_id``, ``hook_event_name``, ``notification_type``,
``message``, ...).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from tmux_orc.cli.hooks.jsonhooks import JsonHooks, Settings, ours, parse, render, uninstall, uninstall_text

__all__ = ["EVENTS", "HOOKS", "HOOK_TIMEOUT_S", "NAME", "Settings", "hook_command", "install", "install_text",
           "ours", "parse", "render", "settings_path", "status", "status_text", "uninstall", "uninstall_text"]

NAME = "claude"
#: The events whose hooks tell the daemon a state at once: a permission dialog shown (PermissionRequest
#: comes the moment it opens; the permission_prompt Notification seconds later), idle / question
#: notifications, the end of a turn, a prompt submitted, a session (re)started.
EVENTS = ("PermissionRequest", "Notification", "Stop", "UserPromptSubmit", "SessionStart")
HOOK_TIMEOUT_S = 5  # Claude Code's own limit for our handler; the command itself is done in < 0.5 s
HOOKS = JsonHooks(EVENTS, HOOK_TIMEOUT_S)


def settings_path(env: Mapping[str, str]) -> Path:
    """``$CLAUDE_CONFIG_DIR/settings.json``, else ``$HOME/.claude/settings.json``."""
    config_dir = env.get("CLAUDE_CONFIG_DIR", "")
    if config_dir:
        return Path(config_dir) / "settings.json"
    return Path(env.get("HOME") or os.path.expanduser("~")) / ".claude" / "settings.json"


def hook_command(program: str, event: str) -> str:
    """The shell command Claude Code runs for ``event`` (``program`` is an absolute path)."""
    return HOOKS.command(program, event)


def install(settings: Settings, program: str) -> Settings:
    """``settings`` with our handler for each of :data:`EVENTS` (replacing older ones of ours)."""
    return HOOKS.install(settings, program)


def status(settings: Settings, program: str) -> tuple[str, str]:
    """``("installed" | "outdated" | "not installed", why)`` for this install's ``program``."""
    return HOOKS.status(settings, program)


def install_text(text: str, program: str) -> str:
    """The settings file's new text with our hooks installed."""
    return HOOKS.install_text(text, program)


def status_text(text: str, program: str) -> tuple[str, str]:
    """:func:`status` of the settings file's text."""
    return HOOKS.status_text(text, program)
