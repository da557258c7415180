"""Codex CLI's ``notify`` program, as ``tmux-orc hooks`` writes it into ``config.toml`` (pure functions).

Codex reads ``$CODEX_HOME/config.toml`` (default ``~/.codex/config.toml``). Its top-level ``notify`` is
an argv list; after each turn Codex runs it with one more argument, a JSON object such as
``{"type": "agent-turn-complete", "thread-id": ..., "turn-id": ..., "cwd": ...,
"last-assistant-message": ...}``, and does not wait for it. Ours is
``notify = ["<...>/tmux-orc", "hook", "codex-notify"]``, written as the file's first two lines (a
comment saying so, then the key), so that removing them gives back the user's file byte for byte.

``notify`` holds one program: when the user has their own, install refuses rather than replace it.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

NAME = "codex"
NOTIFY_EVENT = "codex-notify"  # the EVENT word of our notify argv: the real event is the JSON's "type"
MARKER = "# tmux-orc: tells the tmux-orc daemon when a turn ends (`tmux-orc hooks uninstall` removes this)"


class NotifyTaken(ValueError):
    """The user's config already sets ``notify`` to a program of their own."""


def config_path(env: Mapping[str, str]) -> Path:
    """``$CODEX_HOME/config.toml``, else ``$HOME/.codex/config.toml``."""
    home = env.get("CODEX_HOME", "")
    if home:
        return Path(home) / "config.toml"
    return Path(env.get("HOME") or os.path.expanduser("~")) / ".codex" / "config.toml"


def notify_argv(program: str) -> list[str]:
    """Our ``notify`` value for this install's ``program`` (an absolute path)."""
    return [program, "hook", NOTIFY_EVENT]


def event_name(event: str, details: Mapping[str, str]) -> str:
    """The event a hook reports: for Codex notify, the JSON's ``type`` (``agent-turn-complete``).

    >>> event_name("codex-notify", {"type": "agent-turn-complete"})
    'agent-turn-complete'
    >>> event_name("Stop", {"type": "x"})
    'Stop'
    """
    if event == NOTIFY_EVENT:
        kind = details.get("type", "")
        if kind and len(kind) <= 64 and kind.replace("-", "").replace("_", "").isalnum():
            return kind
    return event


def ours(value: Any) -> str | None:
    """The program path when ``value`` (a ``notify`` setting) is ours, else None."""
    if (
        isinstance(value, list)
        and len(value) == 3
        and all(isinstance(word, str) for word in value)
        and os.path.basename(value[0]) == "tmux-orc"
        and value[1:] == ["hook", NOTIFY_EVENT]
    ):
        return str(value[0])
    return None


def current_notify(text: str) -> Any:
    """The file's top-level ``notify`` (None when unset); ValueError when the file is not valid TOML."""
    try:
        return tomllib.loads(text).get("notify")
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not valid TOML: {exc}") from None


def install(text: str, program: str) -> str:
    """``text`` with our ``notify`` (an older one of ours replaced); :class:`NotifyTaken` if the user has one."""
    existing = current_notify(text)
    if existing is not None and ours(existing) is None:
        raise NotifyTaken(
            f"notify is already set to {json.dumps(existing)}; tmux-orc does not replace it "
            "(remove it, or run tmux-orc hook codex-notify JSON from your own notify program)"
        )
    base = uninstall(text)
    line = "notify = " + json.dumps(notify_argv(program), ensure_ascii=False)  # JSON strings are TOML strings
    return f"{MARKER}\n{line}\n{base}"


def uninstall(text: str) -> str:
    """``text`` without our two lines (wherever they are); the user's own lines untouched."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    index = 0
    while index < len(lines):
        if lines[index].rstrip("\r\n") == MARKER and index + 1 < len(lines) and _is_our_line(lines[index + 1]):
            index += 2
            continue
        out.append(lines[index])
        index += 1
    return "".join(out)


def status(text: str, program: str) -> tuple[str, str]:
    """``("installed" | "outdated" | "not installed", why)`` for this install's ``program``."""
    existing = current_notify(text)
    if existing is None:
        return "not installed", ""
    path = ours(existing)
    if path is None:
        return "not installed", f"notify runs your own program {json.dumps(existing)}"
    if path != program:
        return "outdated", f"runs {path}, not {program}"
    return "installed", ""


def _is_our_line(line: str) -> bool:
    try:
        return ours(tomllib.loads(line).get("notify")) is not None
    except tomllib.TOMLDecodeError:
        return False


def install_text(text: str, program: str) -> str:
    """The config file's new text with our ``notify`` (see :func:`install`)."""
    return install(text, program)


def uninstall_text(text: str, backup: str | None) -> str | None:
    """The config file's text without our lines; None when nothing is left of a file we created."""
    cleaned = uninstall(text)
    return None if backup is None and not cleaned.strip() else cleaned


def status_text(text: str, program: str) -> tuple[str, str]:
    """:func:`status` of the config file's text."""
    return status(text, program)
