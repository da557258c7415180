"""Which agent program runs under a pane, from the process tree alone (no screen text).

Programs are recognised by a small table of patterns: the kernel's ``comm``, the basename of ``argv[0]``
and, for interpreters (``node``, ``python3``, ``bun``, ``deno``), the script or ``-m`` module they run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tmux_orc.model import Kind, PaneInfo, ProcessFacts, ProcessInfo
from tmux_orc.procfs import ProcessTable


@dataclass(frozen=True, slots=True)
class ProgramPattern:
    """How one agent program shows up in a process list."""

    kind: Kind
    names: frozenset[str]  # exact basenames (without .js/.mjs/.py) of comm, argv[0] or a script
    prefixes: tuple[str, ...] = ()  # basename prefixes (demo stand-ins such as ``claude-sim``)
    path_parts: tuple[str, ...] = ()  # substrings of a script path (npm package folders)
    modules: frozenset[str] = frozenset()  # ``python -m MODULE``


AGENT_PATTERNS: tuple[ProgramPattern, ...] = (
    ProgramPattern(Kind.CLAUDE, frozenset({"claude"}), ("claude",), ("@anthropic-ai/claude-code",)),
    ProgramPattern(Kind.CODEX, frozenset({"codex"}), ("codex-",), ("@openai/codex",)),
    ProgramPattern(Kind.GEMINI, frozenset({"gemini"}), ("gemini-",), ("@google/gemini-cli",)),
    ProgramPattern(
        Kind.AIDER,
        frozenset({"aider"}),
        ("aider-",),
        ("/site-packages/aider/",),
        frozenset({"aider", "aider.main"}),
    ),
    # opencode: a native binary (npm opencode-ai ships it as bin/opencode.exe; comm "opencode").
    ProgramPattern(Kind.OPENCODE, frozenset({"opencode", "opencode.exe"}), ("opencode-",), ("/opencode-ai/",)),
    # Qwen Code: node .bin/qwen, which relaunches itself as node --expose-gc .../@qwen-code/qwen-code/cli.js.
    ProgramPattern(Kind.QWEN, frozenset({"qwen"}), ("qwen-",), ("@qwen-code/qwen-code",)),
)

SHELLS: frozenset[str] = frozenset({"bash", "zsh", "sh", "dash", "fish", "ksh", "tcsh", "csh", "mksh"})

_INTERPRETER = re.compile(r"^(?:node|nodejs|bun|deno|python(?:\d+(?:\.\d+)?)?|pypy\d*)$")
_SCRIPT_SUFFIX = re.compile(r"\.(?:js|mjs|cjs|ts|py)$")
_ALIVE_EXCLUDED = frozenset({"Z", "X", "x"})
_STOPPED = frozenset({"T", "t"})


def _basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _stem(path: str) -> str:
    name = _basename(path)
    if name.startswith("-"):  # login shells show argv[0] as "-bash"
        name = name[1:]
    return _SCRIPT_SUFFIX.sub("", name).lower()


def _match_name(name: str) -> Kind | None:
    for pattern in AGENT_PATTERNS:
        if name in pattern.names or any(name.startswith(p) for p in pattern.prefixes):
            return pattern.kind
    return None


def _match_script(argv: tuple[str, ...]) -> Kind | None:
    """The agent an interpreter runs: the script argument(s) or ``-m module``."""
    args = argv[1:]
    for index, arg in enumerate(args[:12]):
        if arg == "-m" and index + 1 < len(args):
            module = args[index + 1]
            for pattern in AGENT_PATTERNS:
                if module in pattern.modules:
                    return pattern.kind
            return None
        if arg.startswith("-") or arg in ("run", "exec", "x"):
            continue
        for pattern in AGENT_PATTERNS:
            if any(part in arg for part in pattern.path_parts):
                return pattern.kind
        kind = _match_name(_stem(arg))
        if kind is not None:
            return kind
    return None


def program_kind(proc: ProcessInfo) -> Kind | None:
    """The agent kind of one process, or None when it is no agent program we know."""
    names = [_stem(proc.comm)]
    if proc.argv:
        names.append(_stem(proc.argv[0]))
    for name in names:
        kind = _match_name(name)
        if kind is not None:
            return kind
    if any(_INTERPRETER.match(name) for name in names):
        return _match_script(proc.argv)
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
    members = [proc for proc in tree if proc.pgrp == foreground and proc.state not in _ALIVE_EXCLUDED]
    return bool(members) and all(is_shell(proc) for proc in members)


def _tool_cpu(agent: ProcessInfo, kind: Kind, table: ProcessTable) -> float:
    """CPU seconds of what the agent runs: its children that have exited, and every process below it
    that is not the agent program itself (Codex's native TUI under its node launcher draws a spinner)."""
    total = agent.child_cpu_seconds
    for _depth, proc in table.descendants(agent.pid):
        total += proc.child_cpu_seconds
        if program_kind(proc) is not kind:
            total += proc.cpu_seconds
    return total


def find_agent(pane: PaneInfo, table: ProcessTable) -> ProcessFacts:
    """Walk the tree from ``pane.pane_pid`` (itself included, breadth first) for an agent program.

    The shallowest live agent wins. A zombie agent is reported with its kind but ``agent_pid=None``.
    """
    tree = _tree(pane, table)
    commands = tuple(proc.comm for proc in tree[:16])
    dead_kind: Kind | None = None
    for proc in tree:
        kind = program_kind(proc)
        if kind is None:
            continue
        if proc.state in _ALIVE_EXCLUDED:
            dead_kind = dead_kind or kind
            continue
        # Stopped: the agent program or any of its own processes (Codex's node launcher runs a native
        # TUI below it; stopping the TUI freezes the agent while the launcher sleeps on).
        stopped = proc.state in _STOPPED or any(
            p.state in _STOPPED and program_kind(p) is kind for p in tree if p.pid != proc.pid
        )
        return ProcessFacts(
            kind=kind,
            agent_pid=proc.pid,
            stopped=stopped,
            commands=commands,
            tool_cpu_seconds=_tool_cpu(proc, kind, table),
        )
    shells = [proc for proc in tree if is_shell(proc) and proc.state not in _ALIVE_EXCLUDED]
    if dead_kind is not None:
        kind = dead_kind
    elif shells and all(is_shell(proc) for proc in tree if proc.state not in _ALIVE_EXCLUDED):
        kind = Kind.SHELL
    else:
        kind = Kind.UNKNOWN
    return ProcessFacts(
        kind=kind,
        agent_pid=None,
        shell_in_foreground=bool(tree) and _shell_in_foreground(tree),
        commands=commands,
    )


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
