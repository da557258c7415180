"""find_agent: the agent program under a pane, from fake process tables."""

from __future__ import annotations

import pytest

from tests.unit.detect_helpers import pane
from tmux_orc.detect.process import find_agent, program_kind
from tmux_orc.model import Kind, ProcessInfo
from tmux_orc.procfs import ProcessTable

BASH = ProcessInfo(100, 1, "S", "bash", ("-bash",), pgrp=100, tpgid=100)


def table(*procs: ProcessInfo) -> ProcessTable:
    return ProcessTable.from_processes(list(procs))


def child(pid: int, comm: str, argv: tuple[str, ...], state: str = "S", ppid: int = 100) -> ProcessInfo:
    return ProcessInfo(pid, ppid, state, comm, argv, pgrp=pid, tpgid=pid)


def with_foreground(shell: ProcessInfo, pgrp: int) -> ProcessInfo:
    return ProcessInfo(shell.pid, shell.ppid, shell.state, shell.comm, shell.argv, shell.pgrp, pgrp)


def test_shell_then_native_claude() -> None:
    facts = find_agent(pane(), table(with_foreground(BASH, 200), child(200, "claude", ("claude",))))
    assert (facts.kind, facts.agent_pid, facts.stopped) == (Kind.CLAUDE, 200, False)
    assert not facts.shell_in_foreground
    assert facts.commands == ("bash", "claude")


def test_shell_only_is_shell_in_foreground() -> None:
    facts = find_agent(pane(), table(BASH))
    assert (facts.kind, facts.agent_pid, facts.shell_in_foreground) == (Kind.SHELL, None, True)


def test_claude_1x_node_script() -> None:
    argv = ("node", "--no-warnings", "/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js", "--continue")
    facts = find_agent(pane(), table(BASH, child(200, "node", argv)))
    assert (facts.kind, facts.agent_pid) == (Kind.CLAUDE, 200)


def test_agent_is_the_pane_process_itself() -> None:
    top = ProcessInfo(100, 1, "S", "claude", ("claude",), pgrp=100, tpgid=100)
    assert find_agent(pane(), table(top)).agent_pid == 100


def test_stopped_agent() -> None:
    facts = find_agent(pane(), table(with_foreground(BASH, 100), child(200, "claude", ("claude",), "T")))
    assert facts.agent_pid == 200 and facts.stopped


def test_stopped_native_tui_under_its_launcher() -> None:
    """Codex: a node launcher runs the native TUI; stopping the TUI stops the agent."""
    launcher = child(200, "node", ("node", "/x/node_modules/.bin/codex"))
    tui = child(300, "codex", ("/x/vendor/codex/codex",), state="T", ppid=200)
    facts = find_agent(pane(), table(with_foreground(BASH, 200), launcher, tui))
    assert (facts.kind, facts.agent_pid, facts.stopped) == (Kind.CODEX, 200, True)


def test_zombie_agent_is_not_alive() -> None:
    facts = find_agent(pane(), table(BASH, child(200, "claude", (), "Z")))
    assert facts.agent_pid is None and facts.kind == Kind.CLAUDE and facts.shell_in_foreground


def test_renamed_comm_still_found_by_argv() -> None:
    # Claude Code sets process.title: comm may say "claude" while argv still names node, or the reverse.
    assert program_kind(child(200, "MainThread", ("claude", "--resume"))) == Kind.CLAUDE
    assert program_kind(child(201, "claude", ("node", "/opt/x/cli.js"))) == Kind.CLAUDE


def test_deeper_agent_under_wrappers() -> None:
    procs = table(
        BASH,
        child(150, "npm exec", ("npm", "exec", "@google/gemini-cli"), ppid=100),
        child(
            200,
            "node",
            ("node", "/home/u/.npm/_npx/1/node_modules/@google/gemini-cli/dist/index.js"),
            ppid=150,
        ),
    )
    assert find_agent(pane(), procs).kind == Kind.GEMINI


@pytest.mark.parametrize(
    ("comm", "argv", "kind"),
    [
        ("codex", ("codex",), Kind.CODEX),
        ("node", ("node", "/usr/lib/node_modules/@openai/codex/bin/codex.js"), Kind.CODEX),
        ("gemini", ("gemini", "-y"), Kind.GEMINI),
        ("python3", ("python3", "-m", "aider", "--model", "x"), Kind.AIDER),
        ("aider", ("/home/u/.local/bin/python3.11", "/home/u/.local/bin/aider"), Kind.AIDER),
        ("python3", ("python3", "/work/demo/claude-sim", "--speed", "2"), Kind.CLAUDE),
        ("python3.11", ("python3.11", "-u", "/tmp/claude-sim.py"), Kind.CLAUDE),
        ("bun", ("bun", "run", "/x/gemini-sim.ts"), Kind.GEMINI),
        ("vim", ("vim", "claude.md"), None),
        ("node", ("node", "server.js"), None),
        ("python3", ("python3", "-m", "http.server"), None),
        ("bash", ("bash", "-c", "claude"), None),
    ],
)
def test_program_patterns(comm: str, argv: tuple[str, ...], kind: Kind | None) -> None:
    assert program_kind(child(200, comm, argv)) == kind


def test_other_program_is_unknown_and_not_shell_foreground() -> None:
    facts = find_agent(pane(), table(with_foreground(BASH, 200), child(200, "vim", ("vim", "x"))))
    assert (facts.kind, facts.agent_pid, facts.shell_in_foreground) == (Kind.UNKNOWN, None, False)


def test_missing_pane_process() -> None:
    facts = find_agent(pane(), table(child(5, "claude", ("claude",), ppid=1)))
    assert (facts.kind, facts.agent_pid, facts.commands) == (Kind.UNKNOWN, None, ())


def test_live_agent_preferred_over_zombie() -> None:
    procs = table(BASH, child(200, "claude", (), "Z"), child(201, "claude", ("claude",)))
    assert find_agent(pane(), procs).agent_pid == 201


def test_tool_cpu_counts_what_the_agent_runs_not_the_agent() -> None:
    """The agent's own CPU (spinner redraws) and its own helper processes are no tool work; a build below
    it is, and so are children that have exited (their time moves into the parent's cutime)."""
    agent = ProcessInfo(200, 100, "S", "claude", ("claude",), 200, 200, cpu_seconds=50.0, child_cpu_seconds=1.5)
    build = ProcessInfo(300, 200, "R", "make", ("make", "-j2"), 300, 200, cpu_seconds=4.0, child_cpu_seconds=2.0)
    compiler = ProcessInfo(301, 300, "R", "cc1", ("cc1",), 300, 200, cpu_seconds=3.0)
    facts = find_agent(pane(), table(BASH, agent, build, compiler))
    assert facts.tool_cpu_seconds == 1.5 + 4.0 + 2.0 + 3.0


def test_tool_cpu_skips_the_agents_own_tui() -> None:
    launcher = ProcessInfo(200, 100, "S", "node", ("node", "/x/node_modules/.bin/codex"), 200, 200, cpu_seconds=1.0)
    tui = ProcessInfo(300, 200, "S", "codex", ("/x/vendor/codex/codex",), 200, 200, cpu_seconds=80.0)
    tool = ProcessInfo(400, 300, "R", "pytest", ("python3", "-m", "pytest"), 400, 200, cpu_seconds=6.0)
    facts = find_agent(pane(), table(BASH, launcher, tui, tool))
    assert (facts.agent_pid, facts.tool_cpu_seconds) == (200, 6.0)


def test_no_agent_no_tool_cpu() -> None:
    assert find_agent(pane(), table(BASH)).tool_cpu_seconds is None
