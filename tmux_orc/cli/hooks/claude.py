"""Claude Code's hooks, as ``tmux-orc hooks`` writes them into ``settings.json`` (pure functions).

Claude Code reads ``$CLAUDE_CONFIG_DIR/settings.json`` (default ``~/.claude/settings.json``); its
``hooks`` key maps an event name to a list of matcher groups, each with a list of handlers::

    {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "/venv/bin/tmux-orc hook Stop"}]}]}}

The command gets the hook's JSON on stdin (``session_id``, ``hook_event_name``, ``notification_type``,
``message``, ...). Ours are the handlers whose command is ``<...>/tmux-orc hook EVENT``; everything else
in the file is the user's and is kept as it is.
"""

from __future__ import annotations

import copy
import json
import os
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

NAME = "claude"
#: The events whose hooks tell the daemon a state at once: a permission dialog shown (PermissionRequest
#: comes the moment it opens; the permission_prompt Notification seconds later), idle / question
#: notifications, the end of a turn, a prompt submitted, a session (re)started.
EVENTS = ("PermissionRequest", "Notification", "Stop", "UserPromptSubmit", "SessionStart")
HOOK_TIMEOUT_S = 5  # Claude Code's own limit for our handler; the command itself is done in < 0.5 s

Settings = dict[str, Any]


def settings_path(env: Mapping[str, str]) -> Path:
    """``$CLAUDE_CONFIG_DIR/settings.json``, else ``$HOME/.claude/settings.json``."""
    config_dir = env.get("CLAUDE_CONFIG_DIR", "")
    if config_dir:
        return Path(config_dir) / "settings.json"
    return Path(env.get("HOME") or os.path.expanduser("~")) / ".claude" / "settings.json"


def hook_command(program: str, event: str) -> str:
    """The shell command Claude Code runs for ``event`` (``program`` is an absolute path)."""
    return f"{shlex.quote(program)} hook {event}"


def ours(handler: Any) -> str | None:
    """The program path of one of our handlers (``<...>/tmux-orc hook EVENT``), else None."""
    if not isinstance(handler, dict) or handler.get("type") != "command":
        return None
    command = handler.get("command")
    if not isinstance(command, str):
        return None
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if len(words) == 3 and os.path.basename(words[0]) == "tmux-orc" and words[1] == "hook":
        return words[0]
    return None


def parse(text: str) -> Settings:
    """The settings in ``text`` ("" is an empty file); ValueError when it is not a JSON object."""
    if not text.strip():
        return {}
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("the settings file is not a JSON object")
    return data


def render(settings: Settings, like: str = "") -> str:
    """``settings`` as JSON text, indented as ``like`` (the file's previous text) was, else by 2."""
    return json.dumps(settings, indent=_indent_of(like), ensure_ascii=False) + "\n"


def install(settings: Settings, program: str) -> Settings:
    """``settings`` with our handler for each of :data:`EVENTS` (replacing older ones of ours)."""
    result = uninstall(settings)
    hooks = result.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise ValueError("'hooks' in the settings file is not an object")
    for event in EVENTS:
        groups = hooks.setdefault(event, [])
        if not isinstance(groups, list):
            raise ValueError(f"'hooks.{event}' in the settings file is not a list")
        handler = {"type": "command", "command": hook_command(program, event), "timeout": HOOK_TIMEOUT_S}
        groups.append({"hooks": [handler]})
    return result


def uninstall(settings: Settings) -> Settings:
    """``settings`` without any handler of ours; groups, events and ``hooks`` left empty by that go too."""
    result = copy.deepcopy(settings)
    hooks = result.get("hooks")
    if not isinstance(hooks, dict):
        return result
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept = []
        for group in groups:
            handlers = group.get("hooks") if isinstance(group, dict) else None
            if not isinstance(handlers, list) or not any(ours(h) for h in handlers):
                kept.append(group)
                continue
            remaining = [h for h in handlers if not ours(h)]
            if remaining:
                kept.append({**group, "hooks": remaining})
        if kept:
            hooks[event] = kept
        else:
            del hooks[event]
    if not hooks:
        del result["hooks"]
    return result


def status(settings: Settings, program: str) -> tuple[str, str]:
    """``("installed" | "outdated" | "not installed", why)`` for this install's ``program``."""
    found: dict[str, set[str]] = {}
    hooks = settings.get("hooks")
    for event, groups in (hooks.items() if isinstance(hooks, dict) else ()):
        for group in groups if isinstance(groups, list) else ():
            handlers = group.get("hooks") if isinstance(group, dict) else None
            for handler in handlers if isinstance(handlers, list) else ():
                path = ours(handler)
                if path is not None:
                    found.setdefault(event, set()).add(path)
    if not found:
        return "not installed", ""
    missing = [event for event in EVENTS if event not in found]
    others = sorted({path for paths in found.values() for path in paths} - {program})
    if others:
        return "outdated", f"runs {', '.join(others)}, not {program}"
    if missing:
        return "outdated", f"no hook for {', '.join(missing)}"
    return "installed", ""


def _indent_of(text: str) -> int:
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" ")
        if stripped and len(stripped) < len(line):
            return len(line) - len(stripped)
    return 2


def install_text(text: str, program: str) -> str:
    """The settings file's new text with our hooks installed."""
    return render(install(parse(text), program), like=text)


def uninstall_text(text: str, backup: str | None) -> str | None:
    """The settings file's text without our hooks: ``backup`` itself when that is what is left (so
    the user's bytes come back exactly), None when nothing is left of a file we created."""
    cleaned = uninstall(parse(text))
    if backup is not None:
        try:
            if parse(backup) == cleaned:
                return backup
        except ValueError:
            pass  # a broken backup is just not the same content
    elif not cleaned:
        return None
    return text if cleaned == parse(text) else render(cleaned, like=text)


def status_text(text: str, program: str) -> tuple[str, str]:
    """:func:`status` of the settings file's text."""
    return status(parse(text), program)
