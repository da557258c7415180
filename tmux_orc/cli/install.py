"""``tmux-orc install``: write the systemd user unit, the D-Bus activation file and the man page.

The files are rendered from the templates shipped as package data (``tmux_orc/data/*.in``) with the
absolute path of this install's ``tmux-orcd``, written atomically under ``$XDG_CONFIG_HOME`` and
``$XDG_DATA_HOME``, then ``systemctl --user daemon-reload`` (and ``enable --now`` on request) is run.
Only per-user installs exist: a system-wide package ships ``packaging/`` instead.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TextIO

from tmux_orc.atomicfile import write_atomic
from tmux_orc.busnames import BUS_NAME, UNIT_NAME
from tmux_orc.cli.linger import (
    AT_LOGOUT,
    Linger,
    Runner,
    current_user,
    enable_linger_argv,
    linger_advice,
    query_linger,
)

DAEMON_NAME = "tmux-orcd"
ACTIVATION_NAME = f"{BUS_NAME}.service"
UNIT_TEMPLATE = "tmux-orc.service.in"
ACTIVATION_TEMPLATE = f"{ACTIVATION_NAME}.in"
PLACEHOLDER = "@TMUX_ORCD@"
DOCS_PLACEHOLDER = "@DOCS@"
INET_PLACEHOLDER = "@INET@"
MANPAGE = "tmux-orc.1"
SYSTEMCTL_TIMEOUT_S = 60.0

# Characters that need no quoting in either file format.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_/.+\-@:,=]+")



@dataclass(frozen=True)
class PlannedFile:
    """One file ``install`` writes: where, what, and whether it is already there as is."""

    path: Path
    content: str
    preview: bool = True  # --dry-run prints the content (not for the man page: it is the package's)

    def is_current(self) -> bool:
        try:
            return self.path.read_text(encoding="utf-8") == self.content
        except OSError:
            return False


def _check_daemon_path(daemon: str) -> None:
    if not daemon.startswith("/"):
        raise ValueError(f"the daemon path must be absolute, got {daemon!r}")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in daemon):
        raise ValueError(f"the daemon path contains a control character: {daemon!r}")


def systemd_exec_word(path: str) -> str:
    """``path`` as the first word of a unit's ``ExecStart=`` (specifiers and quotes escaped).

    systemd expands ``$VAR`` in arguments only, never in the command path, so ``$`` stays as is.
    """
    _check_daemon_path(path)
    escaped = path.replace("%", "%%")
    if _PLAIN_PATH.fullmatch(path):
        return escaped
    escaped = escaped.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def dbus_exec_word(path: str) -> str:
    """``path`` as a D-Bus activation ``Exec=`` line (parsed by dbus-daemon like a shell word)."""
    _check_daemon_path(path)
    return path if _PLAIN_PATH.fullmatch(path) else shlex.quote(path)


def read_template(name: str) -> str:
    """The text of one template shipped in ``tmux_orc/data``."""
    return resources.files("tmux_orc").joinpath("data", name).read_text(encoding="utf-8")


def render_unit(daemon: str, *, docs: Sequence[str] = (), inet: bool = False) -> str:
    """The systemd user unit with ``ExecStart=`` pointing at ``daemon``.

    ``docs`` are more ``Documentation=`` URIs; ``inet`` allows AF_INET/AF_INET6 sockets (for
    webhook notification channels: ``notify_urls``).
    """
    for uri in docs:
        if any(ch.isspace() or ord(ch) < 0x20 for ch in uri):
            raise ValueError(f"a documentation URI must not contain spaces: {uri!r}")
    extra_docs = "".join(" " + uri.replace("%", "%%") for uri in docs)
    return (
        read_template(UNIT_TEMPLATE)
        .replace(PLACEHOLDER, systemd_exec_word(daemon))
        .replace(DOCS_PLACEHOLDER, extra_docs)
        .replace(INET_PLACEHOLDER, " AF_INET AF_INET6" if inet else "")
    )


def wants_inet() -> bool:
    """Whether the effective settings name webhook channels (``notify_urls``), which need IP sockets."""
    from tmux_orc.config import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError:
        return False  # the daemon will refuse to start and say why; nothing to open up for
    return bool(getattr(settings, "notify_urls", None) or getattr(settings, "notify_urls_file", None))


def render_activation(daemon: str) -> str:
    """The D-Bus session activation file with ``Exec=`` pointing at ``daemon``."""
    return read_template(ACTIVATION_TEMPLATE).replace(PLACEHOLDER, dbus_exec_word(daemon))


def _xdg_dir(env: Mapping[str, str], name: str, fallback: tuple[str, ...]) -> Path:
    value = env.get(name, "")
    if value and os.path.isabs(value):  # the XDG spec says relative values are ignored
        return Path(value)
    home = env.get("HOME") or str(Path.home())
    return Path(home, *fallback)


def unit_path(env: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME/systemd/user/tmux-orc.service``."""
    return _xdg_dir(env, "XDG_CONFIG_HOME", (".config",)) / "systemd" / "user" / UNIT_NAME


def activation_path(env: Mapping[str, str]) -> Path:
    """``$XDG_DATA_HOME/dbus-1/services/org.tmuxorc.Monitor1.service``."""
    return _xdg_dir(env, "XDG_DATA_HOME", (".local", "share")) / "dbus-1" / "services" / ACTIVATION_NAME


def manpage_path(env: Mapping[str, str]) -> Path:
    """``$XDG_DATA_HOME/man/man1/tmux-orc.1``: where ``man`` finds it when ``~/.local/bin`` is on PATH
    (man-db looks in ``../share/man`` of each PATH entry), and what the unit's ``Documentation=`` names."""
    return _xdg_dir(env, "XDG_DATA_HOME", (".local", "share")) / "man" / "man1" / MANPAGE


def find_installed(name: str, env: Mapping[str, str], executable: str | None = None) -> Path | None:
    """This install's program ``name``: next to the running interpreter first (a venv), then on ``PATH``."""
    interpreter = executable if executable is not None else sys.executable
    if interpreter:
        # Not resolved: a venv's python is a symlink, and its bin dir is the one we want.
        found = shutil.which(name, path=str(Path(interpreter).absolute().parent))
        if found:
            return Path(found).absolute()
    found = shutil.which(name, path=env.get("PATH", os.defpath))
    return Path(found).absolute() if found else None


def find_daemon(env: Mapping[str, str], executable: str | None = None) -> Path | None:
    """This install's ``tmux-orcd``: next to the running interpreter first (a venv), then on ``PATH``."""
    return find_installed(DAEMON_NAME, env, executable)


def plan(daemon: Path, env: Mapping[str, str], *, inet: bool = False) -> list[PlannedFile]:
    """The files ``install`` writes for ``daemon``."""
    return [
        PlannedFile(unit_path(env), render_unit(str(daemon), inet=inet)),
        PlannedFile(activation_path(env), render_activation(str(daemon))),
        PlannedFile(manpage_path(env), read_template(MANPAGE), preview=False),
    ]


def write_atomically(path: Path, content: str, mode: int = 0o644) -> None:
    """Replace ``path`` with ``content`` so readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, content.encode("utf-8"), mode)


def run_command(argv: Sequence[str], env: Mapping[str, str]) -> tuple[int, str]:
    """Run ``argv`` with ``env``, bounded in time; (exit status, stdout+stderr)."""
    try:
        done = subprocess.run(
            list(argv),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SYSTEMCTL_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return 124, f"timed out after {SYSTEMCTL_TIMEOUT_S:.0f}s"
    return done.returncode, (done.stdout + done.stderr).strip()


def find_systemctl(env: Mapping[str, str]) -> str | None:
    """``systemctl`` on ``env``'s PATH."""
    return shutil.which("systemctl", path=env.get("PATH", os.defpath))


def run_install(
    *,
    user: bool,
    enable: bool,
    dry_run: bool,
    out: TextIO,
    err: TextIO | None = None,
    env: Mapping[str, str] | None = None,
    runner: Runner = run_command,
    executable: str | None = None,
    linger: bool = False,
    inet: bool | None = None,
    linger_probe: Callable[[], Linger] | None = None,
) -> int:
    """Install the user unit and activation file; 0 on success, 1 on failure, 2 for unsupported modes.

    With ``enable`` or ``linger`` it also says whether the service outlives a logout (lingering);
    ``linger`` runs ``loginctl enable-linger`` when it is off.
    """
    err = sys.stderr if err is None else err
    env = os.environ if env is None else env
    if not user:
        print(
            "tmux-orc install: only per-user installs are supported (--user); a system-wide package ships "
            "packaging/systemd/tmux-orc.service in /usr/lib/systemd/user/ instead",
            file=err,
        )
        return 2
    daemon = find_daemon(env, executable)
    if daemon is None:
        print(f"tmux-orc install: cannot find {DAEMON_NAME} next to {sys.executable} or on PATH", file=err)
        return 1
    inet = wants_inet() if inet is None else inet
    try:
        files = plan(daemon, env, inet=inet)
    except ValueError as exc:
        print(f"tmux-orc install: {exc}", file=err)
        return 1
    if inet:
        print("notify_urls is set: the unit allows AF_INET AF_INET6 sockets (webhook channels)", file=out)

    enable_argv = ["systemctl", "--user", "enable", "--now", UNIT_NAME]
    probe = linger_probe or (lambda: query_linger(env, runner))
    if dry_run:
        for planned in files:
            state = " (unchanged)" if planned.is_current() else ""
            if not planned.preview:
                print(f"would write {planned.path}{state} ({len(planned.content.splitlines())} lines)", file=out)
                continue
            print(f"would write {planned.path}{state}:", file=out)
            print(planned.content, file=out, end="" if planned.content.endswith("\n") else "\n")
        print("would run: systemctl --user daemon-reload", file=out)
        if enable:
            print(f"would run: {shlex.join(enable_argv)}", file=out)
        if linger:
            print(f"would run (if lingering is off): {shlex.join(enable_linger_argv(current_user(env)))}", file=out)
        return 0

    for planned in files:
        if planned.is_current():
            print(f"unchanged {planned.path}", file=out)
            continue
        try:
            write_atomically(planned.path, planned.content)
        except OSError as exc:
            print(f"tmux-orc install: cannot write {planned.path}: {exc}", file=err)
            return 1
        print(f"wrote {planned.path}", file=out)

    status = _reload_and_enable(enable, enable_argv, env, runner, out, err)
    if status == 0 and (enable or linger):
        status = _settle_linger(linger, probe, env, runner, out, err)
    return status


def _reload_and_enable(
    enable: bool, enable_argv: list[str], env: Mapping[str, str], runner: Runner, out: TextIO, err: TextIO
) -> int:
    systemctl = find_systemctl(env)
    if systemctl is None:
        print("warning: systemctl not found; run `systemctl --user daemon-reload` yourself", file=err)
        if enable:
            print("tmux-orc install: cannot enable tmux-orc.service without systemctl", file=err)
            return 1
        return 0
    status, output = run_safely(runner, [systemctl, "--user", "daemon-reload"], env)
    if status != 0:
        print(f"warning: systemctl --user daemon-reload failed ({status}): {output}", file=err)
    if not enable:
        print(f"start it with: {shlex.join(enable_argv)}", file=out)
        return 0
    status, output = run_safely(runner, [systemctl, *enable_argv[1:]], env)
    if status != 0:
        print(f"tmux-orc install: {shlex.join(enable_argv)} failed ({status}): {output}", file=err)
        return 1
    print(f"enabled and started {UNIT_NAME}", file=out)
    return 0


def _settle_linger(
    want: bool, probe: Callable[[], Linger], env: Mapping[str, str], runner: Runner, out: TextIO, err: TextIO
) -> int:
    """Report lingering; with ``want``, turn it on when it is not known to be on. 1 if that failed."""
    state = probe()
    if state.enabled:
        print(f"lingering is on for {state.user}: tmux-orc keeps running after you log out", file=out)
        return 0
    if not want:
        print(f"warning: {linger_advice(state)}", file=err)
        return 0
    argv = enable_linger_argv(state.user)
    loginctl = shutil.which(argv[0], path=env.get("PATH", os.defpath))
    if loginctl is None:
        print(f"tmux-orc install: cannot turn lingering on: loginctl is not installed. {AT_LOGOUT}.", file=err)
        return 1
    status, output = run_safely(runner, [loginctl, *argv[1:]], env)
    if status != 0:
        print(f"tmux-orc install: {shlex.join(argv)} failed ({status}): {output}. Until lingering is on, "
              f"{AT_LOGOUT}.", file=err)
        return 1
    print(f"ran {shlex.join(argv)}: tmux-orc keeps running after you log out", file=out)
    return 0


def run_safely(runner: Runner, argv: Sequence[str], env: Mapping[str, str]) -> tuple[int, str]:
    """``runner(argv, env)``, with a command that cannot run reported as status 127."""
    try:
        return runner(argv, env)
    except OSError as exc:
        return 127, str(exc)
