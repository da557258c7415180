"""Which agent program runs under a pane, from the process tree alone (no screen text).

Programs are recognised by the ``[process]`` patterns of the agent definitions in use (the built-in
ones unless a caller passes others): the kernel's ``comm``, the basename of ``argv[0]`` and, for
interpreters (``node``, ``python3``, ``bun``, ``deno``), the script or ``-m`` module they run.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from tmux_orc.detect.catalog import BUILTIN_CATALOG
from tmux_orc.detect.program import ProgramPattern
from tmux_orc.model import Kind, PaneInfo, ProcessFacts, ProcessInfo
from tmux_orc.procfs import ProcessTable

Patterns = Sequence[ProgramPattern]

SHELLS: frozenset[str] = frozenset({"bash", "zsh", "sh", "dash", "fish", "ksh", "tcsh", "csh", "mksh"})

_INTERPRETER = re.compile(r"^(?:node|nodejs|bun|deno|python(?:\d+(?:\.\d+)?)?|pypy\d*)$")
_SCRIPT_SUFFIX = re.compile(r"\.(?:js|mjs|cjs|ts|py)$")
GONE_STATES = frozenset({"Z", "X", "x"})  # /proc state letters of a process that is no more (zombie, dead)
STOPPED_STATES = frozenset({"T", "t"})  # stopped by a signal (SIGSTOP, ctrl-z) or by a tracer


def _basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _stem(path: str) -> str:
    name = _basename(path)
    if name.startswith("-"):  # login shells show argv[0] as "-bash"
        name = name[1:]
    return _SCRIPT_SUFFIX.sub("", name).lower()


def _match_name(name: str, patterns: Patterns) -> str | None:
    for pattern in patterns:
        if name in pattern.names or any(name.startswith(p) for p in pattern.prefixes):
            return pattern.kind
    return None


def _match_script(argv: tuple[str, ...], patterns: Patterns) -> str | None:
    """The agent an interpreter runs: the script argument(s) or ``-m module``."""
    args = argv[1:]
    for index, arg in enumerate(args[:12]):
        if arg == "-m" and index + 1 < len(args):
            module = args[index + 1]
            for pattern in patterns:
                if module in pattern.modules:
                    return pattern.kind
            return None
        if arg.startswith("-") or arg in ("run", "exec", "x"):
            continue
        for pattern in patterns:
            if any(part in arg for part in pattern.path_parts):
                return pattern.kind
        kind = _match_name(_stem(arg), patterns)
        if kind is not None:
            return kind
    return None


_ARGS_READ = 14  # argv[0], the 12 arguments _match_script looks at and a module name after the last
_CACHED_ARGV_CHARS = 2048  # longer command lines are not remembered (an interpreter's inline script)


def program_kind(proc: ProcessInfo, patterns: Patterns | None = None) -> str | None:
    """The agent kind of one process, or None when it is no agent program defined."""
    patterns = BUILTIN_CATALOG.patterns if patterns is None else patterns
    argv = proc.argv[:_ARGS_READ]  # all that is read of it
    if sum(map(len, argv)) > _CACHED_ARGV_CHARS:  # a long inline script: worked out, not kept
        return _program_kind.__wrapped__(proc.comm, argv, tuple(patterns))
    return _program_kind(proc.comm, argv, tuple(patterns))


@functools.lru_cache(maxsize=1024)  # every process of every pane, each cycle: mostly the same few
def _program_kind(comm: str, argv: tuple[str, ...], patterns: tuple[ProgramPattern, ...]) -> str | None:
    names = [_stem(comm)]
    if argv:
        names.append(_stem(argv[0]))
    for name in names:
        kind = _match_name(name, patterns)
        if kind is not None:
            return kind
    if any(_INTERPRETER.match(name) for name in names):
        return _match_script(argv, patterns)
    return None


def is_shell(proc: ProcessInfo) -> bool:
    """A login or interactive shell (by comm or argv[0])."""
    return _stem(proc.comm) in SHELLS or (bool(proc.argv) and _stem(proc.argv[0]) in SHELLS)


def _tree(pane: PaneInfo, table: ProcessTable) -> list[ProcessInfo]:
    top = table.get(pane.pane_pid)
    if top is None:
        return []
    return [top, *(proc for _depth, proc in table.descendants(pane.pane_pid))]


def _shell_in_foreground(tree: list[ProcessInfo]) -> bool:
    foreground = tree[0].tpgid
    if foreground <= 0:
        return False
    members = [proc for proc in tree if proc.pgrp == foreground and proc.state not in GONE_STATES]
    return bool(members) and all(is_shell(proc) for proc in members)


def _tool_cpu(agent: ProcessInfo, kind: str, table: ProcessTable, patterns: Patterns) -> float:
    """CPU seconds of what the agent runs: its children that have exited, and every process below it
    that is not the agent program itself (Codex's native TUI under its node launcher draws a spinner)."""
    total = agent.child_cpu_seconds
    for _depth, proc in table.descendants(agent.pid):
        total += proc.child_cpu_seconds
        if program_kind(proc, patterns) != kind:
            total += proc.cpu_seconds
    return total


def find_agent(pane: PaneInfo, table: ProcessTable, patterns: Patterns | None = None) -> ProcessFacts:
    """Walk the tree from ``pane.pane_pid`` (itself included, breadth first) for an agent program.

    The shallowest live agent wins. A zombie agent is reported with its kind but ``agent_pid=None``.
    ``patterns``: the agent definitions' program patterns (the built-in ones by default).
    """
    patterns = BUILTIN_CATALOG.patterns if patterns is None else patterns
    tree = _tree(pane, table)
    commands = tuple(proc.comm for proc in tree[:16])
    dead_kind: str | None = None
    for proc in tree:
        kind = program_kind(proc, patterns)
        if kind is None:
            continue
        if proc.state in GONE_STATES:
            dead_kind = dead_kind or kind
            continue
        # Stopped: the agent program or any of its own processes (Codex's node launcher runs a native
        # TUI below it; stopping the TUI freezes the agent while the launcher sleeps on).
        stopped = proc.state in STOPPED_STATES or any(p.state in STOPPED_STATES
                                                      for p in _same_kind(tree, proc.pid, kind, patterns))
        return ProcessFacts(
            kind=kind,
            agent_pid=proc.pid,
            stopped=stopped,
            commands=commands,
            tool_cpu_seconds=_tool_cpu(proc, kind, table, patterns),
        )
    shells = [proc for proc in tree if is_shell(proc) and proc.state not in GONE_STATES]
    if dead_kind is not None:
        kind = dead_kind
    elif shells and all(is_shell(proc) for proc in tree if proc.state not in GONE_STATES):
        kind = str(Kind.SHELL)
    else:
        kind = str(Kind.UNKNOWN)
    return ProcessFacts(
        kind=kind,
        agent_pid=None,
        shell_in_foreground=bool(tree) and _shell_in_foreground(tree),
        commands=commands,
    )


def own_processes(pane: PaneInfo, table: ProcessTable, facts: ProcessFacts,
                  patterns: Patterns | None = None) -> tuple[int, ...]:
    """The pids of the agent program's own processes in the pane's tree: the agent's, then each of its
    kind (Codex's native TUI below its node launcher), whose stopping or exit stops the agent."""
    if facts.agent_pid is None:
        return ()
    patterns = BUILTIN_CATALOG.patterns if patterns is None else patterns
    return (facts.agent_pid, *(p.pid for p in _same_kind(_tree(pane, table), facts.agent_pid, facts.kind, patterns)))


def _same_kind(tree: list[ProcessInfo], agent_pid: int, kind: str, patterns: Patterns) -> list[ProcessInfo]:
    """The processes of the tree, the agent's own aside, that run the same agent program."""
    return [p for p in tree if p.pid != agent_pid and program_kind(p, patterns) == kind]


def foreground_command(pane: PaneInfo, table: ProcessTable) -> str | None:
    """Name of the pane's foreground process-group leader (for crash details), if known."""
    tree = _tree(pane, table)
    if not tree:
        return None
    foreground = tree[0].tpgid
    for proc in tree:
        if proc.pid == foreground:
            return proc.comm
    return None
