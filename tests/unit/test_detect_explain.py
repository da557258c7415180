"""explain(): the lines `tmux-orc explain` prints."""

from __future__ import annotations

from tests.unit.detect_helpers import SHELL_ONLY, look
from tmux_orc.detect.explain import describe_profiles, explain
from tmux_orc.detect.profiles import DEFAULT_PROFILES


def test_explain_crash_from_process_facts() -> None:
    screen = "user@host:~$ claude\nbash: claude: command not found\nuser@host:~$ "
    obs = look(screen, SHELL_ONLY)
    text = "\n".join(explain(obs, SHELL_ONLY))
    assert "state:     crashed" in text
    assert "rule:      process.exited" in text
    assert "command not found" in text
    assert "process:   shell not running (shell in foreground)" in text


def test_crash_detail_only_from_the_last_shell_lines() -> None:
    screen = "ls: x: No such file or directory\n" + "\n".join(f"line {n}" for n in range(10)) + "\n$ "
    assert look(screen, SHELL_ONLY).verdict.detail == "agent program exited; shell in foreground"


def test_describe_profiles_lists_every_rule() -> None:
    lines = describe_profiles(DEFAULT_PROFILES)
    assert any(line.strip().startswith("claude.spinner") for line in lines)
    assert sum(1 for line in lines if line.startswith("[")) == len(DEFAULT_PROFILES.by_kind)  # a heading per kind
    assert len(DEFAULT_PROFILES.by_kind) == 7  # claude, codex, gemini, aider, opencode, qwen, shell
