"""``tmux-orc hooks install|uninstall|status [--agent NAME]``: the agent CLIs' settings files, edited.

Each file is read, transformed by its :class:`~tmux_orc.cli.hooks.HookFormat` (pure functions), and
replaced atomically (through a symlink, the file it points to). Before the first change a copy of the
user's file is kept beside it as ``<name>.tmux-orc.bak``; ``uninstall`` puts the user's own settings
back (the backup's very bytes when nothing else changed since) and removes that copy once it is equal.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from tmux_orc.atomicfile import write_atomic
from tmux_orc.cli.hooks import FORMATS, HookFormat, format_named
from tmux_orc.cli.install import find_installed

PROGRAM = "tmux-orc"
BACKUP_SUFFIX = ".tmux-orc.bak"


class HooksFailed(Exception):
    """One agent CLI's settings could not be changed; the message says which file and why."""


def find_program(env: Mapping[str, str], executable: str | None = None) -> str | None:
    """This install's ``tmux-orc``: next to the running interpreter first (a venv), then on ``PATH``."""
    found = find_installed(PROGRAM, env, executable)
    return str(found) if found is not None else None


def backup_path(path: Path) -> Path:
    """Where the user's file is kept before our first change: ``settings.json.tmux-orc.bak``."""
    return path.with_name(path.name + BACKUP_SUFFIX)


def _target(path: Path) -> Path:
    return path.resolve() if path.is_symlink() else path


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise HooksFailed(f"cannot read {path}: {exc}") from None


def _write(path: Path, text: str) -> None:
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o600
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text.encode("utf-8"), mode)


def install_one(fmt: HookFormat, env: Mapping[str, str], program: str) -> str:
    """Install our hooks for ``fmt``; returns the line to print."""
    path = _target(fmt.path(env))
    old = _read(path)
    try:
        new = fmt.install(old or "", program)
    except ValueError as exc:
        raise HooksFailed(f"{fmt.name}: not installed: {path}: {exc}") from None
    if new == old:
        return f"{fmt.name}: already installed in {path}"
    note = ""
    backup = backup_path(path)
    if old is not None and not backup.exists():
        _write(backup, old)
        note = f" (your file is kept as {backup})"
    _write(path, new)
    return f"{fmt.name}: installed in {path}{note}"


def uninstall_one(fmt: HookFormat, env: Mapping[str, str]) -> str:
    """Remove our hooks for ``fmt``; returns the line to print."""
    path = _target(fmt.path(env))
    old = _read(path)
    if old is None:
        return f"{fmt.name}: nothing to remove ({path} does not exist)"
    backup = backup_path(path)
    saved = _read(backup)
    try:
        new = fmt.uninstall(old, saved)
    except ValueError as exc:
        raise HooksFailed(f"{fmt.name}: not removed: {path}: {exc}") from None
    if new is None:
        path.unlink()
        return f"{fmt.name}: removed {path} (tmux-orc had created it)"
    what = "nothing of tmux-orc's in" if new == old else "removed the hooks from"
    if new != old:
        _write(path, new)
    if saved is None:
        return f"{fmt.name}: {what} {path}"
    if saved == new:
        backup.unlink()  # the user's file is back as it was: the copy has done its job
        return f"{fmt.name}: {what} {path} (it is as before install)"
    return f"{fmt.name}: {what} {path} (the file as it was before install stays in {backup})"


def status_one(fmt: HookFormat, env: Mapping[str, str], program: str) -> str:
    """``claude: installed (/home/u/.claude/settings.json)`` and the like."""
    path = _target(fmt.path(env))
    text = _read(path)
    if text is None:
        return f"{fmt.name}: not installed ({path} does not exist)"
    try:
        state, why = fmt.status(text, program)
    except ValueError as exc:
        return f"{fmt.name}: unknown ({path}: {exc})"
    return f"{fmt.name}: {state} ({path}{'; ' + why if why else ''})"


def _chosen(action: str, agent: str | None, env: Mapping[str, str]) -> list[HookFormat]:
    if agent is not None:
        return [format_named(agent)]
    if action == "status":
        return list(FORMATS)
    # Without --agent: the CLIs this user has (their settings folder exists).
    return [fmt for fmt in FORMATS if fmt.path(env).parent.is_dir()]


def run_hooks(args: argparse.Namespace, out: TextIO, env: Mapping[str, str] | None = None) -> int:
    """The ``hooks`` command: 0 when every chosen CLI is done, 1 when one of them failed."""
    env = os.environ if env is None else env
    action: str = args.hooks_action
    agent: str | None = getattr(args, "agent", None)
    program = find_program(env)
    if program is None and action != "uninstall":
        print(f"error: cannot find this install's {PROGRAM} (next to {sys.executable} or on PATH)", file=sys.stderr)
        return 1
    chosen = _chosen(action, agent, env)
    if not chosen:
        names = ", ".join(str(fmt.path(env).parent) for fmt in FORMATS)
        print(f"error: no agent CLI settings found ({names}); name one with --agent "
              f"{'|'.join(agent_names())}", file=sys.stderr)
        return 1
    status = 0
    for fmt in chosen:
        try:
            if action == "install":
                assert program is not None
                line = install_one(fmt, env, program)
            elif action == "uninstall":
                line = uninstall_one(fmt, env)
            else:
                assert program is not None
                line = status_one(fmt, env, program)
        except (HooksFailed, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
            continue
        print(line, file=out)
    return status


def agent_names() -> Sequence[str]:
    """The agent CLIs ``--agent`` accepts."""
    return [fmt.name for fmt in FORMATS]

