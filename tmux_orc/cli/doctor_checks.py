"""The checks of ``tmux-orc doctor``: pure functions from gathered facts to one :class:`Check` each.

Every function here takes plain values (command outputs, parsed files, the daemon's answers) and says
ok, warn or fail with the fix; gathering the facts is :mod:`tmux_orc.cli.doctor`'s job.
"""

from __future__ import annotations

import enum
import os
import shlex
import shutil
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tmux_orc.cli.linger import AT_LOGOUT, Linger, enable_linger_argv

HOOK_COMMAND = "tmux-orc hook"
UNIT = "tmux-orc.service"


class Level(enum.StrEnum):
    """How a check came out; ``skip`` when it could not run because something before it failed."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report: what was checked, how it came out, and the fix."""

    name: str
    level: Level
    summary: str
    fix: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The check as stable JSON-able data."""
        return {"name": self.name, "level": str(self.level), "summary": self.summary, "fix": self.fix,
                "details": dict(self.details)}  # fmt: skip


def check_settings(error: str | None, config_file: Path) -> Check:
    """The settings load (the daemon would exit 78 otherwise)."""
    if error:
        return Check("settings", Level.FAIL, error, "fix the named setting (`tmux-orc config` shows the sources)")
    where = str(config_file) if config_file.exists() else f"defaults ({config_file} not found)"
    return Check("settings", Level.OK, f"valid: {where}")


def check_user_manager(status: int | None, output: str) -> Check:
    """``systemctl --user is-system-running``: None when systemctl is missing."""
    fix = "log in through a session that starts `systemd --user` (user@UID.service), with XDG_RUNTIME_DIR set"
    if status is None:
        return Check("user manager", Level.FAIL, "systemctl not found", "tmux-orc runs as a systemd user service; "
                     "without systemd run tmux-orcd yourself")
    state = output.strip().splitlines()[-1].strip() if output.strip() else ""
    if state == "running":
        return Check("user manager", Level.OK, "systemd --user is running")
    if state == "degraded":
        return Check("user manager", Level.WARN, "systemd --user is running, degraded (a unit failed)",
                     "systemctl --user --failed")
    if state in ("initializing", "starting"):
        return Check("user manager", Level.OK, f"systemd --user is {state}")
    return Check("user manager", Level.FAIL, f"systemctl --user is not reachable: {output.strip()[:160]}", fix)


def check_linger(linger: Linger) -> Check:
    """Lingering, which decides whether the service outlives a logout."""
    fix = shlex.join(enable_linger_argv(linger.user)) + "  (or: tmux-orc install --enable --linger)"
    if linger.enabled:
        return Check("lingering", Level.OK, f"on for {linger.user} (from {linger.source})")
    if linger.enabled is False:
        return Check("lingering", Level.WARN, f"off for {linger.user}: {AT_LOGOUT}", fix)
    return Check("lingering", Level.WARN, f"unknown ({linger.why_unknown}); without it, {AT_LOGOUT}", fix)


def check_bus(address: str, error: str) -> Check:
    """The session bus the CLI uses."""
    if error:
        return Check("session bus", Level.FAIL, error,
                     "export DBUS_SESSION_BUS_ADDRESS=unix:path=$XDG_RUNTIME_DIR/bus (or log in to a desktop session)")
    return Check("session bus", Level.OK, f"connected: {address}")


def check_daemon(owned: bool | None, status: Mapping[str, Any] | None, error: str) -> Check:
    """The daemon on the bus: its name owned, GetStatus answered, monitoring running."""
    if owned is None:
        return Check("daemon", Level.SKIP, "no session bus to look on")
    if not owned:
        return Check("daemon", Level.FAIL, "org.tmuxorc.Monitor1 is not on the session bus",
                     "systemctl --user start tmux-orc  (not installed? tmux-orc install --enable)")
    if status is None:
        return Check("daemon", Level.FAIL, f"the daemon does not answer GetStatus: {error}",
                     "systemctl --user status tmux-orc; tmux-orc monitor logs")
    summary = (f"version {status.get('version', '?')}, {status.get('agents', '?')} agents, "
               f"strategy {status.get('strategy', '?')}, {status.get('cycles', '?')} cycles")
    details = {key: status[key] for key in ("version", "running", "tmux_connected", "agents") if key in status}
    if status.get("running") is False:
        return Check("daemon", Level.WARN, f"monitoring is paused ({summary})", "tmux-orc monitor start", details)
    return Check("daemon", Level.OK, f"running: {summary}", details=details)


def check_daemon_tmux(status: Mapping[str, Any] | None) -> Check:
    """Whether the daemon reaches a tmux server (GetStatus ``tmux_connected``)."""
    if status is None:
        return Check("daemon sees tmux", Level.SKIP, "the daemon did not answer")
    if status.get("tmux_connected") is False:
        reason = str(status.get("tmux_error") or "it reaches no tmux server")
        socket = status.get("tmux_socket") or "tmux's default socket"
        return Check("daemon sees tmux", Level.FAIL, reason,
                     f"start tmux (the daemon watches {socket}); or set tmux_socket (`tmux-orc config`)")
    return Check("daemon sees tmux", Level.OK, "connected to the tmux server")


def parse_show(output: str) -> dict[str, str]:
    """``systemctl show -p A -p B`` output as a dict."""
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


def exec_start_path(value: str) -> str:
    """The program of an ``ExecStart`` value, from ``systemctl show`` (``{ path=/x ; argv[]=... }``) or a
    unit file line (``/x --flag``, maybe quoted)."""
    value = value.strip()
    if value.startswith("{"):
        for part in value.strip("{} ").split(";"):
            key, _, rest = part.strip().partition("=")
            if key == "path":
                return rest.strip()
        return ""
    try:
        words = shlex.split(value)
    except ValueError:
        return ""
    word = words[0] if words else ""
    return word.lstrip("-@:+!").replace("%%", "%")


def unit_file_exec(text: str, key: str = "ExecStart") -> str:
    """The program named by the first ``key=`` line of a unit or activation file ("" if none)."""
    for line in text.splitlines():
        name, _, value = line.strip().partition("=")
        if name == key:
            return exec_start_path(value)
    return ""


def check_unit(show: Mapping[str, str] | None, file_exec: str, expected: str, wants_inet: bool) -> Check:
    """The installed unit runs this install's tmux-orcd, is enabled, and allows what the settings need.

    ``show`` is ``systemctl --user show`` of the unit (None when the manager is unreachable: then
    ``file_exec``, the ExecStart of the unit file, is all there is).
    """
    fix_install = "tmux-orc install --enable"
    if show is None:  # no user manager to ask: the unit file is all there is
        if not file_exec:
            return Check("unit", Level.FAIL, f"{UNIT} is not installed", fix_install)
        program = file_exec
    else:
        if show.get("LoadState") != "loaded":
            return Check("unit", Level.FAIL, f"{UNIT} is not installed ({show.get('LoadState', '?')})", fix_install)
        program = exec_start_path(show.get("ExecStart", "")) or file_exec
    details = {"exec_start": program, "this_install": expected}
    if show:
        details |= {k: show[k] for k in ("FragmentPath", "UnitFileState", "ActiveState") if k in show}
    if expected and program and os.path.abspath(program) != os.path.abspath(expected):
        return Check("unit", Level.FAIL, f"{UNIT} runs {program}, not this install's {expected}",
                     f"{fix_install}  (rewrites the unit for this install)", details)
    if show and show.get("UnitFileState") not in (None, "enabled", "enabled-runtime", "static", "linked"):
        return Check("unit", Level.WARN, f"{UNIT} is installed but {show.get('UnitFileState')}: it will not "
                     "start at login", "systemctl --user enable --now tmux-orc", details)
    families = show.get("RestrictAddressFamilies", "") if show else ""
    if wants_inet and families and "AF_INET" not in families:
        return Check("unit", Level.WARN, "notify_urls is set but the unit allows local sockets only (AF_UNIX)",
                     f"{fix_install}  (renders AF_INET AF_INET6 for webhook channels)", details)
    return Check("unit", Level.OK, f"{UNIT} runs {program or '?'}", details=details)


def check_activation(exists: bool, exec_path: str, expected: str, path: Path) -> Check:
    """The D-Bus activation file starts this install's daemon."""
    if not exists:
        return Check("bus activation", Level.WARN, f"{path} is missing: the bus cannot start the daemon on demand",
                     "tmux-orc install")
    if expected and exec_path and os.path.abspath(exec_path) != os.path.abspath(expected):
        return Check("bus activation", Level.FAIL, f"{path} starts {exec_path}, not {expected}", "tmux-orc install")
    return Check("bus activation", Level.OK, f"{path.name} starts {exec_path or '?'}")


@dataclass(frozen=True)
class TmuxServer:
    """One tmux socket found, and whether a server answered on it."""

    socket: str
    answers: bool
    sessions: int = 0
    error: str = ""


def check_tmux(servers: Sequence[TmuxServer], socket_dir: str, watched: str | Sequence[str] | None) -> Check:
    """tmux servers found under the socket dir, and the ones the settings name (``watched``: the
    ``tmux_socket`` paths; None or empty when it is unset, every server being watched)."""
    named = [watched] if isinstance(watched, str) else list(watched or [])
    live = [s for s in servers if s.answers]
    stale = [s for s in servers if not s.answers and s.socket not in named]
    details = {"socket_dir": socket_dir, "servers": [vars(s) for s in servers], "watched": named or "all"}
    answering = [w for w in named if any(s.socket == w and s.answers for s in servers)]
    if named and not answering:
        shown = ", ".join(named)
        return Check("tmux servers", Level.FAIL, f"no tmux server answers at tmux_socket={shown}",
                     f"start it (tmux -S {shlex.quote(named[0])}) or change tmux_socket", details)
    if not live:
        return Check("tmux servers", Level.WARN, f"no tmux server answers under {socket_dir}",
                     "start tmux (agents run in tmux windows named like Claude-pm)", details)
    names = ", ".join(f"{Path(s.socket).name} ({s.sessions} sessions)" for s in live)
    missing = [w for w in named if w not in answering]
    unwatched = [s for s in live if named and s.socket not in named]
    if missing or unwatched:
        parts = [names]
        if missing:
            parts.append(f"no server answers at {', '.join(missing)}")
        if unwatched:
            parts.append(f"not watched (tmux_socket): {', '.join(Path(s.socket).name for s in unwatched)}")
        return Check("tmux servers", Level.WARN, "; ".join(parts),
                     "name every server in tmux_socket (a list), or leave it unset to watch them all", details)
    if stale:
        gone = ", ".join(s.socket for s in stale)
        return Check("tmux servers", Level.WARN, f"{names}; stale sockets with no server: {gone}",
                     f"rm {' '.join(shlex.quote(s.socket) for s in stale)}", details)
    return Check("tmux servers", Level.OK, names, details=details)


def check_agents(agents: Sequence[Mapping[str, Any]] | None, prefix: str) -> Check:
    """Agents the daemon found."""
    if agents is None:
        return Check("agents", Level.SKIP, "the daemon did not answer")
    if not agents:
        return Check("agents", Level.WARN, "no agents found",
                     f"name agent windows {prefix}<role> ({prefix}pm, {prefix}developer, ...)")
    counts = Counter(str(a.get("state", "?")) for a in agents)
    states = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    return Check("agents", Level.OK, f"{len(agents)} agents: {states}", details={"states": dict(counts)})


def claude_hook_commands(settings: Any) -> dict[str, list[str]]:
    """Event -> hook commands in a Claude Code ``settings.json`` (its ``hooks`` section)."""
    found: dict[str, list[str]] = {}
    hooks = settings.get("hooks") if isinstance(settings, dict) else None
    if not isinstance(hooks, dict):
        return found
    for event, matchers in hooks.items():
        for matcher in matchers if isinstance(matchers, list) else []:
            inner = matcher.get("hooks") if isinstance(matcher, dict) else None
            for hook in inner if isinstance(inner, list) else []:
                if isinstance(hook, dict) and isinstance(hook.get("command"), str):
                    found.setdefault(str(event), []).append(hook["command"])
    return found


def _program_missing(command: str, path_env: str) -> str:
    """The first word of ``command`` when it cannot be run ("" when it can)."""
    try:
        word = shlex.split(command)[0]
    except (ValueError, IndexError):
        return command
    if os.path.isabs(word):
        return "" if os.access(word, os.X_OK) else word
    return "" if shutil.which(word, path=path_env) else word


def check_claude_hooks(settings_path: Path, settings: Any, error: str, path_env: str) -> Check:
    """Claude Code's hooks call ``tmux-orc hook`` with a program that exists."""
    name = "hooks: claude"
    fix = "tmux-orc hooks install --agent claude"
    if error == "absent":
        return Check(name, Level.SKIP, f"Claude Code is not set up for this user ({settings_path} absent)")
    if error:
        return Check(name, Level.WARN, f"cannot read {settings_path}: {error}", f"fix the file, then {fix}")
    ours = {event: [c for c in cmds if HOOK_COMMAND in c] for event, cmds in claude_hook_commands(settings).items()}
    ours = {event: cmds for event, cmds in ours.items() if cmds}
    if not ours:
        return Check(name, Level.WARN, "no tmux-orc hooks: states change only as fast as the screen shows it", fix)
    missing = sorted({m for cmds in ours.values() for c in cmds if (m := _program_missing(c, path_env))})
    if missing:
        return Check(name, Level.FAIL, f"hooks call {', '.join(missing)}, which is not found", fix,
                     {"events": sorted(ours)})
    return Check(name, Level.OK, "tmux-orc hooks for " + ", ".join(sorted(ours)), details={"events": sorted(ours)})


def check_codex_notify(config_path: Path, config: Any, error: str) -> Check:
    """Codex CLI's ``notify`` setting calls tmux-orc."""
    name = "hooks: codex"
    fix = "tmux-orc hooks install --agent codex"
    if error == "absent":
        return Check(name, Level.SKIP, f"Codex is not set up for this user ({config_path} absent)")
    if error:
        return Check(name, Level.WARN, f"cannot read {config_path}: {error}", fix)
    notify = config.get("notify") if isinstance(config, dict) else None
    words = notify if isinstance(notify, list) else [notify] if isinstance(notify, str) else []
    if any("tmux-orc" in str(word) for word in words):
        return Check(name, Level.OK, f"notify = {words}")
    if words:
        return Check(name, Level.WARN, f"notify calls something else: {words}", fix)
    return Check(name, Level.WARN, "no notify command: Codex turns are seen on the screen only", fix)


def check_hook_status(cli: str, settings_path: Path, used: bool, status: tuple[str, str] | str) -> Check:
    """Hooks of a CLI whose settings file ``tmux-orc hooks`` edits (Gemini CLI, Qwen Code): ``status`` is
    that format's ``(state, why)`` reading of the file, or the error reading it."""
    name = f"hooks: {cli}"
    fix = f"tmux-orc hooks install --agent {cli}"
    if not used:
        return Check(name, Level.SKIP, f"{cli} is not set up for this user ({settings_path.parent} absent)")
    if isinstance(status, str):
        return Check(name, Level.WARN, f"cannot read {settings_path}: {status}", f"fix the file, then {fix}")
    state, why = status
    if state == "installed":
        return Check(name, Level.OK, f"tmux-orc hooks in {settings_path}")
    return Check(name, Level.WARN, f"hooks {state}{': ' + why if why else ''}: states change only as fast as "
                 "the screen shows it", fix)


def check_notifications(enabled: bool, owned: bool | None, activatable: bool) -> Check:
    """A notification server on the session bus (org.freedesktop.Notifications)."""
    name = "notifications"
    if not enabled:
        return Check(name, Level.OK, "desktop notifications are off (desktop_notifications = false)")
    if owned is None:
        return Check(name, Level.SKIP, "no session bus to look on")
    if owned:
        return Check(name, Level.OK, "org.freedesktop.Notifications is on the session bus")
    if activatable:
        return Check(name, Level.OK, "org.freedesktop.Notifications starts on demand (bus activation)")
    return Check(name, Level.WARN, "no notification server on the session bus: alerts reach the PM pane and "
                 "the D-Bus Alert signal only", "start one (dunst, mako, your desktop's) or set "
                 "desktop_notifications = false")
