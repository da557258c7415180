"""``tmux-orc uninstall``: stop, disable and remove what ``tmux-orc install`` wrote.

It removes the user unit, the D-Bus activation file and the man page only when they are ``install``'s
own (they run a ``tmux-orcd``; the page is tmux-orc's); drop-ins (``tmux-orc.service.d/``), settings
and state are the user's and stay.
Lingering stays as it is: other user services may rely on it.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from tmux_orc.busnames import UNIT_NAME
from tmux_orc.cli.install import (
    DAEMON_NAME,
    activation_path,
    find_systemctl,
    manpage_path,
    run_command,
    run_safely,
    unit_path,
)
from tmux_orc.cli.linger import Runner

MANPAGE_HEADER = ".TH TMUX\\-ORC "


def is_ours(path: Path) -> bool:
    """Whether ``path`` looks like a file ``install`` wrote: it starts a ``tmux-orcd``, or is our man page."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if text.startswith(MANPAGE_HEADER):
        return True
    for line in text.splitlines():
        key, _, value = line.strip().partition("=")
        if key in ("ExecStart", "Exec") and DAEMON_NAME in value:
            return True
    return False


def run_uninstall(
    *,
    dry_run: bool,
    out: TextIO,
    err: TextIO | None = None,
    env: Mapping[str, str] | None = None,
    runner: Runner = run_command,
) -> int:
    """Stop and disable the service, remove the unit and activation file; 0 ok, 1 if any step failed."""
    err = sys.stderr if err is None else err
    env = os.environ if env is None else env
    files = [unit_path(env), activation_path(env), manpage_path(env)]
    disable = ["systemctl", "--user", "disable", "--now", UNIT_NAME]
    reload = ["systemctl", "--user", "daemon-reload"]
    prefix = "would " if dry_run else ""
    failed = False

    systemctl = find_systemctl(env)
    if systemctl is None:
        print("warning: systemctl not found; nothing to stop or disable", file=err)
    elif dry_run:
        print(f"would run: {shlex.join(disable)}", file=out)
    else:
        status, output = run_safely(runner, [systemctl, *disable[1:]], env)
        if status == 0:
            print(f"stopped and disabled {UNIT_NAME}", file=out)
        elif "not loaded" in output or "does not exist" in output or "No such file" in output:
            print(f"{UNIT_NAME} was not installed in the user manager", file=out)
        else:
            print(f"tmux-orc uninstall: {shlex.join(disable)} failed ({status}): {output}", file=err)
            failed = True

    for path in files:
        if not path.exists():
            print(f"absent {path}", file=out)
            continue
        if not is_ours(path):
            print(f"warning: left {path}: it does not run {DAEMON_NAME}, so install did not write it", file=err)
            continue
        if dry_run:
            print(f"would remove {path}", file=out)
            continue
        try:
            path.unlink()
        except OSError as exc:
            print(f"tmux-orc uninstall: cannot remove {path}: {exc}", file=err)
            failed = True
            continue
        print(f"removed {path}", file=out)

    drop_ins = unit_path(env).with_name(UNIT_NAME + ".d")
    if drop_ins.is_dir():
        print(f"kept {drop_ins} (your drop-ins; remove it yourself if you want)", file=out)
    if systemctl is not None:
        if dry_run:
            print(f"{prefix}run: {shlex.join(reload)}", file=out)
        else:
            status, output = run_safely(runner, [systemctl, *reload[1:]], env)
            if status != 0:
                print(f"warning: {shlex.join(reload)} failed ({status}): {output}", file=err)
    return 1 if failed else 0
