"""``tmux-orc hooks``: what each agent CLI's hook settings look like (one module per CLI) and the
command that installs, removes and checks them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tmux_orc.cli.hooks import claude, codex, gemini, jsonhooks, qwen


@dataclass(frozen=True)
class HookFormat:
    """How one agent CLI takes our hooks: its settings file and three pure text transformations."""

    name: str
    path: Callable[[Mapping[str, str]], Path]
    install: Callable[[str, str], str]  # (file text, tmux-orc path) -> new text
    uninstall: Callable[[str, str | None], str | None]  # (file text, backup text) -> new text | None: delete
    status: Callable[[str, str], tuple[str, str]]  # (file text, tmux-orc path) -> (status, why)


FORMATS: tuple[HookFormat, ...] = (
    HookFormat(claude.NAME, claude.settings_path, claude.install_text, claude.uninstall_text, claude.status_text),
    HookFormat(codex.NAME, codex.config_path, codex.install_text, codex.uninstall_text, codex.status_text),
    HookFormat(gemini.NAME, gemini.settings_path, gemini.HOOKS.install_text, jsonhooks.uninstall_text,
               gemini.HOOKS.status_text),
    HookFormat(qwen.NAME, qwen.settings_path, qwen.HOOKS.install_text, jsonhooks.uninstall_text,
               qwen.HOOKS.status_text),
)


def format_named(name: str) -> HookFormat:
    """The format of the agent CLI called ``name``; KeyError when there is none."""
    for item in FORMATS:
        if item.name == name:
            return item
    raise KeyError(name)
