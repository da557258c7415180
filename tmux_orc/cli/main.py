"""``tmux-orc``: the command line, a D-Bus client of the ``tmux-orcd`` daemon.

Exit status: 0 ok, 1 the daemon answered with an error, 2 usage error, 3 the daemon is not reachable,
4 the daemon answered but reaches no tmux server. ``tmux-orc`` alone prints the help and exits 0.
This module parses arguments and maps failures to exit statuses; each command lives in a small module.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TextIO

from tmux_orc import __version__
from tmux_orc.cli import agents_cmds, hook, monitor_cmds, status_line
from tmux_orc.cli.hooks import command as hooks_command
from tmux_orc.cli.render import printable
from tmux_orc.client import (
    CommandFailed,
    DaemonError,
    DaemonUnreachable,
    MonitorClient,
    call_timeout,
)

EXIT_OK = 0
EXIT_DAEMON_ERROR = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_NO_TMUX = 4  # returned by listing commands (agents_cmds.EXIT_NO_TMUX)
EXIT_INTERRUPTED = 130

ClientCommand = Callable[[MonitorClient, argparse.Namespace, TextIO], Awaitable[int]]
LocalCommand = Callable[[argparse.Namespace, TextIO], int]


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print stable JSON instead of text")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; ``args.client_command`` or ``args.local_command`` says what to run."""
    parser = argparse.ArgumentParser(
        prog="tmux-orc",
        description="Monitor AI coding agents in tmux (a client of the tmux-orcd daemon over D-Bus).",
        epilog="exit status: 0 ok, 1 the daemon reported an error, 2 usage error, 3 daemon not reachable, "
        "4 the daemon reaches no tmux server",
    )
    parser.add_argument("--version", action="version", version=f"tmux-orc {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")  # none: print the help, exit 0

    monitor = commands.add_parser("monitor", help="control the monitoring daemon")
    monitor_sub = monitor.add_subparsers(dest="monitor_command", metavar="ACTION", required=True)
    start = monitor_sub.add_parser("start", help="resume monitoring cycles")
    start.set_defaults(client_command=monitor_cmds.start)
    stop = monitor_sub.add_parser("stop", help="pause monitoring cycles (the daemon stays on the bus)")
    stop.set_defaults(client_command=monitor_cmds.stop)
    status = monitor_sub.add_parser("status", help="show the daemon's status")
    _add_json(status)
    status.set_defaults(client_command=monitor_cmds.status)
    reload = monitor_sub.add_parser("reload", help="re-read settings")
    reload.set_defaults(client_command=monitor_cmds.reload)

    rollout = monitor_sub.add_parser("rollout", help="show or set the rollout stage of the new strategy")
    rollout.add_argument("stage", nargs="?", metavar="STAGE", help="off, canary, partial or full")
    _add_json(rollout)
    rollout.set_defaults(client_command=monitor_cmds.rollout)

    recover = monitor_sub.add_parser("recover", help="recover an agent (bring a crashed PM back)")
    recover.add_argument("target", metavar="TARGET", help="agent id, session:window[.pane] or %%N")
    recover.add_argument("--wait", action="store_true", help="wait for the outcome; exit 1 if it failed")
    recover.add_argument(
        "--timeout", type=_positive_float, default=300.0, metavar="S", help="how long --wait waits (300)"
    )
    recover.add_argument(
        "--command", metavar="CMD", help="what to run in the new window (default: the daemon's pm_spawn_command)"
    )
    recover.set_defaults(client_command=monitor_cmds.recover)

    logs = monitor_sub.add_parser("logs", help="show the daemon's log (journald)")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new entries")
    logs.add_argument("-n", "--lines", type=_positive_int, metavar="N", help="show the last N entries")
    logs.set_defaults(local_command=monitor_cmds.logs)

    metrics = monitor_sub.add_parser("metrics", help="show cycle timings and counters")
    _add_json(metrics)
    metrics.set_defaults(client_command=monitor_cmds.metrics)

    agents = commands.add_parser("agents", help="list agents and their states")
    _add_json(agents)
    agents.add_argument("--watch", action="store_true", help="redraw as states change, until Ctrl-C")
    agents.add_argument(
        "--interval", type=_positive_float, default=2.0, metavar="S", help="refresh period of --watch (2)"
    )
    agents.add_argument("--targets", action="store_true", help="print only the targets, one a line (completion)")
    agents.add_argument("--kinds", action="store_true",
                        help="list the agent definitions in use (built-in or yours) and where each came from")
    agents.set_defaults(client_command=agents_cmds.agents)

    explain = commands.add_parser("explain", help="say why an agent is in its state")
    explain.add_argument("target", metavar="TARGET", help="agent id, session:window[.pane] or %%N")
    _add_json(explain)
    explain.set_defaults(client_command=agents_cmds.explain)

    hook_parser = commands.add_parser(
        "hook", help="report an agent hook event (reads the hook JSON on stdin; never blocks, exits 0)"
    )
    hook_parser.add_argument("event", metavar="EVENT", help="e.g. Notification, Stop, SessionStart, codex-notify")
    hook_parser.add_argument("payload", nargs="?", metavar="JSON",
                             help="the event's JSON as an argument (Codex notify) instead of on stdin")
    hook_parser.set_defaults(local_command=hook.run_hook)

    hooks_parser = commands.add_parser("hooks", help="install, remove or check the agent CLIs' hooks for tmux-orc")
    hooks_parser.add_argument("hooks_action", choices=("install", "uninstall", "status"), metavar="ACTION",
                              help="install, uninstall or status")
    hooks_parser.add_argument("--agent", choices=hooks_command.agent_names(), metavar="NAME",
                              help=f"only this agent CLI ({', '.join(hooks_command.agent_names())}); "
                                   "default: each one whose settings folder exists")
    hooks_parser.set_defaults(local_command=hooks_command.run_hooks)

    install = commands.add_parser("install", help="write the systemd unit and D-Bus files for this install")
    scope = install.add_mutually_exclusive_group()
    scope.add_argument("--user", dest="user", action="store_true", default=True,
                       help="install for this user (systemd --user); the default")
    scope.add_argument("--system", dest="user", action="store_false",
                       help="system-wide install (not supported: packagers ship packaging/ instead)")
    install.add_argument("--enable", action="store_true", help="enable and start the service afterwards")
    install.add_argument("--dry-run", action="store_true", help="print what would be written, write nothing")
    install.add_argument("--linger", action="store_true",
                         help="turn lingering on (loginctl enable-linger) so the service outlives a logout")
    install.set_defaults(local_command=_install)

    demo = commands.add_parser("demo", help="run a private tmux, bus, daemon and sample agents, and show them live")
    demo.add_argument("--agents", type=_positive_int, default=5, metavar="N", help="sample agents (5)")
    demo.add_argument("--duration", type=_positive_float, default=None, metavar="S", help="stop after S seconds")
    demo.set_defaults(local_command=_demo)
    _add_setup_commands(commands)
    status_line.add_parser(commands)
    return parser


# --- set-up commands: uninstall, doctor, config, completion (tmux_orc/cli/{uninstall,doctor,config_cmd,completion}.py)
def _add_setup_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    uninstall = commands.add_parser("uninstall", help="stop, disable and remove what install wrote")
    uninstall.add_argument("--dry-run", action="store_true", help="print what would be done, change nothing")
    uninstall.set_defaults(local_command=_uninstall)
    doctor = commands.add_parser("doctor", help="check the set-up, a line each with the fix (exit 1 on a failure)")
    _add_json(doctor)
    doctor.set_defaults(local_command=_doctor)
    config = commands.add_parser("config", help="show the effective settings and where each came from")
    _add_json(config)
    config.set_defaults(local_command=_config)
    completion = commands.add_parser("completion", help="print a shell completion script")
    completion.add_argument("shell", choices=["bash", "zsh", "fish"], help="the shell to complete for")
    completion.set_defaults(local_command=_completion)


def _uninstall(args: argparse.Namespace, out: TextIO) -> int:
    from tmux_orc.cli.uninstall import run_uninstall

    return run_uninstall(dry_run=args.dry_run, out=out)


def _doctor(args: argparse.Namespace, out: TextIO) -> int:
    from tmux_orc.cli.doctor import run_doctor

    return run_doctor(json_output=args.json, out=out)


def _config(args: argparse.Namespace, out: TextIO) -> int:
    from tmux_orc.cli.config_cmd import run_config

    return run_config(json_output=args.json, out=out, err=sys.stderr)


def _completion(args: argparse.Namespace, out: TextIO) -> int:
    from tmux_orc.cli.completion import completion_script

    print(completion_script(build_parser(), args.shell), file=out, end="")
    return 0


def _install(args: argparse.Namespace, out: TextIO) -> int:
    from tmux_orc.cli.install import run_install  # lazy: only this command needs it

    return run_install(user=args.user, enable=args.enable, dry_run=args.dry_run, out=out, linger=args.linger)


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    from tmux_orc.cli.watch import watch_agents
    from tmux_orc.demo.runner import run_demo  # lazy: starts processes, only this command needs it

    return run_demo(agent_count=args.agents, duration=args.duration, out=out, view=watch_agents)


async def _run_client_command(command: ClientCommand, args: argparse.Namespace, out: TextIO) -> int:
    async with MonitorClient(timeout=call_timeout()) as client:
        return await command(client, args, out)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run a parsed command; map the daemon's answers to exit statuses and messages on ``err``."""
    try:
        local: LocalCommand | None = getattr(args, "local_command", None)
        if local is not None:
            return local(args, out)
        command: ClientCommand = args.client_command
        return asyncio.run(_run_client_command(command, args, out))
    except DaemonUnreachable as exc:
        print(f"error: {exc}", file=err)
        return EXIT_UNREACHABLE
    except DaemonError as exc:
        print(f"error: {printable(exc.message)} ({printable(exc.short_name)})", file=err)
        return EXIT_DAEMON_ERROR
    except CommandFailed as exc:
        print(f"error: {printable(str(exc))}", file=err)
        return EXIT_DAEMON_ERROR
    except KeyboardInterrupt:
        return EXIT_OK if getattr(args, "watch", False) else EXIT_INTERRUPTED
    except BrokenPipeError:
        # `tmux-orc agents | head`: the reader left; not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush fails silently
        return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "local_command") and not hasattr(args, "client_command"):
        # `tmux-orc` alone: the help on stdout, exit 0 (as `tmux-orc --help`). Not `args.command`:
        # `monitor recover --command` shares that dest.
        parser.print_help(sys.stdout)
        return EXIT_OK
    return run(args, sys.stdout, sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
