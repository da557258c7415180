"""``tmux-orc doctor [--json]``: check the whole set-up, one line each with ok/warn/fail and the fix.

It gathers facts read-only (systemctl, logind, the session bus, the unit files, the tmux sockets, the
agent CLIs' settings files) and hands them to the pure checks in :mod:`tmux_orc.cli.doctor_checks`.
It never starts anything: the daemon is asked only when its bus name is already owned, so a doctor
run does not D-Bus-activate it. Exit status 1 when any check fails, else 0.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from dbus_fast import Message, MessageType

from tmux_orc import sockets
from tmux_orc.busnames import UNIT_NAME
from tmux_orc.cli.doctor_checks import (
    Check,
    Level,
    TmuxServer,
    check_activation,
    check_agents,
    check_bus,
    check_claude_hooks,
    check_codex_notify,
    check_daemon,
    check_daemon_tmux,
    check_hook_status,
    check_linger,
    check_notifications,
    check_settings,
    check_tmux,
    check_unit,
    check_user_manager,
    parse_show,
    unit_file_exec,
)
from tmux_orc.cli.hooks import format_named
from tmux_orc.cli.hooks.command import find_program
from tmux_orc.cli.install import (
    activation_path,
    find_daemon,
    find_systemctl,
    run_command,
    run_safely,
    unit_path,
)
from tmux_orc.cli.linger import Runner, query_linger
from tmux_orc.cli.render import to_json
from tmux_orc.client import DaemonError, DaemonUnreachable, MonitorClient
from tmux_orc.config import ConfigError, Settings, config_file_path, load_settings

NOTIFICATIONS = "org.freedesktop.Notifications"
PROBE_TIMEOUT_S = 3.0
UNIT_PROPERTIES = ("LoadState", "FragmentPath", "ExecStart", "UnitFileState", "ActiveState",
                   "RestrictAddressFamilies")  # fmt: skip
MARK = {Level.OK: "ok", Level.WARN: "warn", Level.FAIL: "FAIL", Level.SKIP: "-"}


@dataclass
class BusFacts:
    """What the session bus told: the daemon's answers and the notification server's presence."""

    address: str = ""
    error: str = ""
    owned: bool | None = None
    status: dict[str, Any] | None = None
    agents: list[dict[str, Any]] | None = None
    daemon_error: str = ""
    notifications_owned: bool | None = None
    notifications_activatable: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


async def _dbus(client: MonitorClient, member: str, signature: str = "", body: list[Any] | None = None) -> Any:
    reply = await asyncio.wait_for(client.bus.call(Message(
        destination="org.freedesktop.DBus", path="/org/freedesktop/DBus", interface="org.freedesktop.DBus",
        member=member, signature=signature, body=body or [],
    )), PROBE_TIMEOUT_S)  # fmt: skip
    if reply is None or reply.message_type is MessageType.ERROR:
        raise DaemonUnreachable(f"{member} failed: {reply.error_name if reply else 'no reply'}")
    return reply.body[0]


async def probe_bus(timeout: float = PROBE_TIMEOUT_S) -> BusFacts:
    """Connect to the session bus; ask the daemon (only if it is there) and look for a notification server."""
    facts = BusFacts()
    client = MonitorClient(timeout=timeout)
    facts.address = client.address or ""
    try:
        await client.connect()
    except DaemonUnreachable as exc:
        facts.error = str(exc)
        return facts
    try:
        facts.address = client.address or facts.address
        facts.owned = await client.name_has_owner()
        if facts.owned:
            try:
                facts.status = await client.call_one("GetStatus")
                facts.agents = await client.call_one("ListAgents")
            except (DaemonUnreachable, DaemonError) as exc:
                facts.daemon_error = str(exc)
        try:
            facts.notifications_owned = bool(await _dbus(client, "NameHasOwner", "s", [NOTIFICATIONS]))
            facts.notifications_activatable = NOTIFICATIONS in (await _dbus(client, "ListActivatableNames"))
        except (DaemonUnreachable, TimeoutError) as exc:
            facts.extra["notifications_error"] = str(exc)
    except DaemonUnreachable as exc:
        facts.daemon_error = str(exc)
    finally:
        client.close()
    return facts


def tmux_socket_dir(env: Mapping[str, str]) -> Path:
    """Where tmux keeps this user's sockets: ``$TMUX_TMPDIR/tmux-UID``, else ``/tmp/tmux-UID``."""
    return sockets.socket_dir(env)


find_sockets = sockets.find_sockets


def probe_tmux(socket: Path, timeout: float = PROBE_TIMEOUT_S) -> TmuxServer:
    """Ask the server on ``socket`` for its sessions."""
    try:
        done = subprocess.run(
            ["tmux", "-S", str(socket), "list-sessions", "-F", "#{session_name}"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return TmuxServer(str(socket), False, error=f"no answer within {timeout:g} s")
    except OSError as exc:
        return TmuxServer(str(socket), False, error=f"cannot run tmux: {exc.strerror}")
    if done.returncode != 0:
        return TmuxServer(str(socket), False, error=(done.stderr or done.stdout).strip()[:160])
    return TmuxServer(str(socket), True, sessions=len(done.stdout.split()))


def watched_sockets(settings: Settings | None, socket_dir: Path) -> list[str]:
    """The sockets the settings name as paths (a bare name is a ``-L`` name under the socket dir);
    none when ``tmux_socket`` is unset (every server is watched)."""
    return sockets.watched_paths(settings.tmux_socket if settings is not None else None, socket_dir)


def read_json(path: Path) -> tuple[Any, str]:
    """(parsed JSON, "") or (None, why); why is "absent" when the file does not exist."""
    try:
        return json.loads(path.read_text(encoding="utf-8")), ""
    except FileNotFoundError:
        return None, "absent"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, str(exc)


def read_toml(path: Path) -> tuple[Any, str]:
    """(parsed TOML, "") or (None, why); why is "absent" when the file does not exist."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle), ""
    except FileNotFoundError:
        return None, "absent"
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return None, str(exc)


JSON_HOOK_CLIS = ("gemini", "qwen")  # settings.json hooks read by their hooks format (Claude has its own check)


def hook_checks(env: Mapping[str, str]) -> list[Check]:
    """The hook settings of every CLI ``tmux-orc hooks`` installs into (read only)."""
    home = Path(env.get("HOME") or Path.home())
    claude_dir = Path(env["CLAUDE_CONFIG_DIR"]) if env.get("CLAUDE_CONFIG_DIR") else home / ".claude"
    claude_file = claude_dir / "settings.json"
    settings, error = read_json(claude_file)
    if error == "absent" and claude_dir.is_dir():
        settings, error = {}, ""  # Claude Code is used here, with no settings file yet
    codex_dir = Path(env["CODEX_HOME"]) if env.get("CODEX_HOME") else home / ".codex"
    codex_file = codex_dir / "config.toml"
    config, codex_error = read_toml(codex_file)
    if codex_error == "absent" and codex_dir.is_dir():
        config, codex_error = {}, ""
    return [
        check_claude_hooks(claude_file, settings, error, env.get("PATH", os.defpath)),
        check_codex_notify(codex_file, config, codex_error),
        *(json_hook_check(name, env) for name in JSON_HOOK_CLIS),
    ]


def json_hook_check(cli: str, env: Mapping[str, str]) -> Check:
    """The hooks of ``cli`` as ``tmux-orc hooks status`` reads them (the same format code)."""
    fmt = format_named(cli)
    path = fmt.path(env)
    used = path.parent.is_dir()
    if not used:
        return check_hook_status(cli, path, False, "")
    program = find_program(env) or "tmux-orc"
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        return check_hook_status(cli, path, True, fmt.status(text, program))
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # unreadable or not a JSON object: say so
        return check_hook_status(cli, path, True, str(exc))


def gather(env: Mapping[str, str], runner: Runner = run_command) -> list[Check]:
    """Run every check, in the order a person fixes things."""
    checks: list[Check] = []
    settings: Settings | None = None
    try:
        settings = load_settings()
        checks.append(check_settings(None, config_file_path(env)))
    except ConfigError as exc:
        checks.append(check_settings(str(exc), config_file_path(env)))

    systemctl = find_systemctl(env)
    manager_up = False
    if systemctl is None:
        checks.append(check_user_manager(None, ""))
    else:
        status, output = run_safely(runner, [systemctl, "--user", "is-system-running"], env)
        checks.append(check_user_manager(status, output))
        manager_up = checks[-1].level is not Level.FAIL
    checks.append(check_linger(query_linger(env, runner)))

    bus = asyncio.run(probe_bus())
    checks.append(check_bus(bus.address, bus.error))
    checks.append(check_daemon(bus.owned, bus.status, bus.daemon_error))
    checks.append(check_daemon_tmux(bus.status if bus.owned else None))

    expected = find_daemon(env)
    expected_path = str(expected) if expected else ""
    show = None
    if manager_up and systemctl is not None:
        props = [f"--property={name}" for name in UNIT_PROPERTIES]
        status, output = run_safely(runner, [systemctl, "--user", "show", UNIT_NAME, *props], env)
        show = parse_show(output) if status == 0 else None
    unit_file = unit_path(env)
    file_exec = unit_file_exec(unit_file.read_text(encoding="utf-8")) if unit_file.is_file() else ""
    wants_inet = bool(getattr(settings, "notify_urls", None) or getattr(settings, "notify_urls_file", None))
    checks.append(check_unit(show, file_exec, expected_path, wants_inet))
    activation = activation_path(env)
    activation_exec = unit_file_exec(activation.read_text(encoding="utf-8"), "Exec") if activation.is_file() else ""
    checks.append(check_activation(activation.is_file(), activation_exec, expected_path, activation))

    socket_dir = tmux_socket_dir(env)
    found = find_sockets(socket_dir)
    watched = watched_sockets(settings, socket_dir)
    found += [Path(w) for w in watched if Path(w) not in found and Path(w).exists()]
    checks.append(check_tmux([probe_tmux(s) for s in found], str(socket_dir), watched))
    prefix = settings.agent_window_prefix if settings is not None else "Claude-"
    checks.append(check_agents(bus.agents if bus.status is not None else None, prefix))
    checks += hook_checks(env)
    enabled = settings.desktop_notifications if settings is not None else True
    checks.append(check_notifications(enabled, bus.notifications_owned, bus.notifications_activatable))
    return checks


def render(checks: list[Check]) -> str:
    """One line per check (``ok``/``warn``/``FAIL``/``-``, name, summary) and its fix indented below."""
    width = max(len(check.name) for check in checks)
    lines = []
    for check in checks:
        lines.append(f"{MARK[check.level]:<4}  {check.name.ljust(width)}  {check.summary}")
        if check.fix and check.level in (Level.WARN, Level.FAIL):
            lines.append(f"{'':<4}  {'':<{width}}  fix: {check.fix}")
    fails = sum(check.level is Level.FAIL for check in checks)
    warns = sum(check.level is Level.WARN for check in checks)
    lines.append(f"{fails} failed, {warns} warnings, {len(checks)} checks")
    return "\n".join(lines)


def run_doctor(*, json_output: bool, out: TextIO, env: Mapping[str, str] | None = None) -> int:
    """Check everything and print the report; 1 when any check failed."""
    checks = gather(os.environ if env is None else env)
    failed = any(check.level is Level.FAIL for check in checks)
    if json_output:
        print(to_json({"ok": not failed, "checks": [check.as_dict() for check in checks]}), file=out)
    else:
        print(render(checks), file=out)
    return 1 if failed else 0
