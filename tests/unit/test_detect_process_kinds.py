"""opencode and Qwen Code are recognised from the process trees their real programs show (argv as
recorded under a tmux pane with opencode 1.18.33 and Qwen Code 0.24.4, see tests/corpus/*/README.md)."""

from __future__ import annotations

import pytest

from tests.unit.detect_helpers import pane
from tmux_orc.detect.process import find_agent, program_kind
from tmux_orc.model import Kind, ProcessInfo
from tmux_orc.procfs import ProcessTable

BASH = ProcessInfo(100, 1, "S", "bash", ("bash", "--noprofile", "--norc", "-i"), pgrp=100, tpgid=300)
PREFIX = "/home/u/.cache/agents"


def _proc(pid: int, ppid: int, comm: str, argv: tuple[str, ...], state: str = "S") -> ProcessInfo:
    return ProcessInfo(pid, ppid, state, comm, argv, pgrp=300, tpgid=300)


@pytest.mark.parametrize(
    ("comm", "argv", "kind"),
    [
        ("opencode", (f"{PREFIX}/opencode/node_modules/.bin/opencode",), Kind.OPENCODE),
        ("opencode", (f"{PREFIX}/opencode/node_modules/opencode-ai/bin/opencode.exe", "--continue"), Kind.OPENCODE),
        ("node", ("node", f"{PREFIX}/qwen/node_modules/.bin/qwen", "--auth-type", "openai"), Kind.QWEN),
        (
            "node",
            ("/usr/bin/node", "--expose-gc", f"{PREFIX}/qwen/node_modules/@qwen-code/qwen-code/cli.js", "-m", "x"),
            Kind.QWEN,
        ),
        ("node", ("node", "/srv/app/index.js", "--open"), None),
        ("vim", ("vim", "qwen.md"), None),
    ],
)
def test_new_program_patterns(comm: str, argv: tuple[str, ...], kind: Kind | None) -> None:
    assert program_kind(_proc(300, 100, comm, argv)) == kind


def test_qwen_relaunch_tree_is_one_qwen_agent_stopped_when_frozen() -> None:
    """Qwen Code's launcher re-executes cli.js under itself; SIGSTOP of the tree reads as stopped."""
    launcher = _proc(300, 100, "node", ("node", f"{PREFIX}/qwen/node_modules/.bin/qwen"), state="T")
    cli = f"{PREFIX}/qwen/node_modules/@qwen-code/qwen-code/cli.js"
    child = _proc(301, 300, "node", ("/usr/bin/node", "--expose-gc", cli), state="T")
    facts = find_agent(pane(), ProcessTable.from_processes([BASH, launcher, child]))
    assert facts.kind == Kind.QWEN and facts.agent_pid == 300 and facts.stopped


def test_kinds_are_remembered_per_command_line_but_not_for_long_inline_scripts() -> None:
    """The same command line is worked out once; a long one (an inline script) every time, unkept,
    with the same answer."""
    from tmux_orc.detect import process

    short = ProcessInfo(pid=1, ppid=0, state="S", comm="node", argv=("node", "/opt/x/bin/gemini"))
    assert program_kind(short) == program_kind(short) == "gemini"
    kept = process._program_kind.cache_info().currsize
    script = ProcessInfo(pid=2, ppid=0, state="S", comm="python3",
                         argv=("python3", "-c", "x = 1\n" * 1000, "-m", "aider"))
    assert program_kind(script) == "aider"  # the same answer as ever (the -m after the script)
    long_aider = ProcessInfo(pid=3, ppid=0, state="S", comm="python3", argv=("python3", "-m", "aider", "y" * 5000))
    assert program_kind(long_aider) == "aider"
    assert process._program_kind.cache_info().currsize == kept
