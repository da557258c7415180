"""Hooks in a ``settings.json`` of the Claude Code shape (Claude Code, Gemini CLI, Qwen Code): pure functions.

The ``hooks`` key maps an event name to a list of matcher groups, each with a list of handlers::

    {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "/venv/bin/tmux-orc hook Stop"}]}]}}

The CLI runs the command with the hook's JSON on stdin. Ours are the handlers whose command is
``<...>/tmux-orc hook EVENT`` (optionally ``2>/dev/null`` after it); everything else in the file is the
user's and is kept as it is. What differs between the CLIs is a :class:`JsonHooks`: which events, the
unit of ``timeout``, whether the handler's stderr must be silenced, extra handler fields.
"""

from __future__ import annotations

import copy
import json
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Settings = dict[str, Any]
QUIET = "2>/dev/null"  # the redirect a quiet handler's command ends with


@dataclass(frozen=True)
class JsonHooks:
    """How one CLI takes our handlers in its settings.json."""

    events: tuple[str, ...]
    timeout: int  # the handler's "timeout", in the CLI's own unit (seconds or milliseconds)
    #: Send the command's stderr to /dev/null: for CLIs that show a hook's stderr (with exit 0 and no
    #: stdout) as a message in their conversation, so that a daemon that is down is not announced there.
    quiet: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)  # more handler fields (Gemini CLI's "name")

    def command(self, program: str, event: str) -> str:
        """The shell command the CLI runs for ``event`` (``program`` is an absolute path)."""
        return f"{shlex.quote(program)} hook {event}" + (f" {QUIET}" if self.quiet else "")

    def handler(self, program: str, event: str) -> dict[str, Any]:
        """Our handler for ``event``."""
        return {**self.extra, "type": "command", "command": self.command(program, event), "timeout": self.timeout}

    def install(self, settings: Settings, program: str) -> Settings:
        """``settings`` with our handler for each of :attr:`events` (replacing older ones of ours)."""
        result = uninstall(settings)
        hooks = result.setdefault("hooks", {})
        if not isinstance(hooks, dict):
            raise ValueError("'hooks' in the settings file is not an object")
        for event in self.events:
            groups = hooks.setdefault(event, [])
            if not isinstance(groups, list):
                raise ValueError(f"'hooks.{event}' in the settings file is not a list")
            groups.append({"hooks": [self.handler(program, event)]})
        return result

    def status(self, settings: Settings, program: str) -> tuple[str, str]:
        """``("installed" | "outdated" | "not installed", why)`` for this install's ``program``."""
        found: dict[str, set[str]] = {}
        for event, handler in _handlers(settings):
            path = ours(handler)
            if path is not None:
                found.setdefault(event, set()).add(path)
        if not found:
            return "not installed", ""
        missing = [event for event in self.events if event not in found]
        others = sorted({path for paths in found.values() for path in paths} - {program})
        if others:
            return "outdated", f"runs {', '.join(others)}, not {program}"
        if missing:
            return "outdated", f"no hook for {', '.join(missing)}"
        return "installed", ""

    def install_text(self, text: str, program: str) -> str:
        """The settings file's new text with our hooks installed."""
        return render(self.install(parse(text), program), like=text)

    def status_text(self, text: str, program: str) -> tuple[str, str]:
        """:meth:`status` of the settings file's text."""
        return self.status(parse(text), program)


def ours(handler: Any) -> str | None:
    """The program path of one of our handlers (``<...>/tmux-orc hook EVENT [2>/dev/null]``), else None."""
    if not isinstance(handler, dict) or handler.get("type") != "command":
        return None
    command = handler.get("command")
    if not isinstance(command, str):
        return None
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if words[3:] == [QUIET]:
        words = words[:3]
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


def _handlers(settings: Settings) -> list[tuple[str, Any]]:
    """Every (event, handler) of the file's ``hooks``, skipping what is not of the expected shape."""
    found: list[tuple[str, Any]] = []
    hooks = settings.get("hooks")
    for event, groups in (hooks.items() if isinstance(hooks, dict) else ()):
        for group in groups if isinstance(groups, list) else ():
            handlers = group.get("hooks") if isinstance(group, dict) else None
            found.extend((event, handler) for handler in (handlers if isinstance(handlers, list) else ()))
    return found


def _indent_of(text: str) -> int:
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" ")
        if stripped and len(stripped) < len(line):
            return len(line) - len(stripped)
    return 2
