"""Gemini CLI and Qwen Code settings.json: our hooks merged in and taken out, the user's settings kept."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from tmux_orc.cli.hooks import FORMATS, claude, format_named, gemini, jsonhooks, qwen
from tmux_orc.cli.hooks.command import install_one, status_one, uninstall_one
from tmux_orc.detect.catalog import builtin_definitions
from tmux_orc.detect.engine import event_state
from tmux_orc.model import AgentEvent, State

TMUX_ORC = "/opt/venv/bin/tmux-orc"
# A Gemini CLI user's file: its own settings and a hook of their own on an event we use too.
GEMINI_USER = """{
    "security": {"auth": {"selectedType": "gemini-api-key"}},
    "hooks": {
        "AfterAgent": [{"matcher": "*", "hooks": [{"name": "log", "type": "command", "command": "log.sh"}]}]
    },
    "hooksConfig": {"disabled": []}
}
"""


def commands(settings: dict[str, object], event: str) -> list[str]:
    hooks = settings["hooks"]
    assert isinstance(hooks, dict)
    return [h["command"] for group in hooks.get(event, []) for h in group["hooks"]]


@pytest.mark.parametrize("module", [gemini, qwen])
def test_install_into_nothing_is_quiet_and_in_the_cli_s_unit(module: object) -> None:
    hooks: jsonhooks.JsonHooks = module.HOOKS  # type: ignore[attr-defined]
    settings = json.loads(hooks.install_text("", TMUX_ORC))
    for event in hooks.events:
        assert commands(settings, event) == [f"{TMUX_ORC} hook {event} 2>/dev/null"]
    handler = settings["hooks"][hooks.events[0]][0]["hooks"][0]
    assert handler["timeout"] == (5000 if module is gemini else 5)  # Gemini CLI: ms; Qwen Code: s
    assert hooks.status(settings, TMUX_ORC) == ("installed", "")


def test_gemini_events_and_name() -> None:
    settings = json.loads(gemini.HOOKS.install_text("", TMUX_ORC))
    assert set(settings["hooks"]) == {"SessionStart", "BeforeAgent", "AfterAgent", "Notification"}
    assert settings["hooks"]["Notification"][0]["hooks"][0]["name"] == "tmux-orc"


def test_install_keeps_the_user_s_settings_and_is_idempotent() -> None:
    text = gemini.HOOKS.install_text(GEMINI_USER, TMUX_ORC)
    settings = json.loads(text)
    assert settings["security"] == {"auth": {"selectedType": "gemini-api-key"}}
    assert settings["hooksConfig"] == {"disabled": []}
    assert commands(settings, "AfterAgent") == ["log.sh", f"{TMUX_ORC} hook AfterAgent 2>/dev/null"]
    assert text.startswith('{\n    "security"')  # the file's own indent (4) and key order
    assert gemini.HOOKS.install_text(text, TMUX_ORC) == text


def test_uninstall_gives_back_the_user_s_bytes() -> None:
    installed = gemini.HOOKS.install_text(GEMINI_USER, TMUX_ORC)
    assert jsonhooks.uninstall_text(installed, GEMINI_USER) == GEMINI_USER
    assert json.loads(jsonhooks.uninstall_text(installed, None) or "") == json.loads(GEMINI_USER)
    assert jsonhooks.uninstall_text(qwen.HOOKS.install_text("", TMUX_ORC), None) is None


def test_one_uninstall_removes_ours_whatever_cli_wrote_them() -> None:
    """Quiet (Gemini, Qwen) and plain (Claude Code) handlers are all recognised as ours."""
    mixed = json.loads(claude.install_text(qwen.HOOKS.install_text("", "/old/tmux-orc"), TMUX_ORC))
    assert jsonhooks.ours({"type": "command", "command": "/x/tmux-orc hook Stop 2>/dev/null"}) == "/x/tmux-orc"
    assert jsonhooks.ours({"type": "command", "command": "/x/tmux-orc hook Stop 2>&1"}) is None
    assert jsonhooks.uninstall(mixed) == {}


def test_status_outdated_when_another_install_runs() -> None:
    old = qwen.HOOKS.install_text("", "/old/venv/bin/tmux-orc")
    state, why = qwen.HOOKS.status_text(old, TMUX_ORC)
    assert state == "outdated" and "/old/venv/bin/tmux-orc" in why


def test_quoted_paths_stay_one_word() -> None:
    program = "/home/a user/venv/bin/tmux-orc"
    command = gemini.HOOKS.command(program, "AfterAgent")
    assert shlex.split(command) == [program, "hook", "AfterAgent", "2>/dev/null"]
    assert gemini.HOOKS.status(json.loads(gemini.HOOKS.install_text("", program)), program) == ("installed", "")


def test_settings_paths() -> None:
    assert str(gemini.settings_path({"HOME": "/h"})) == "/h/.gemini/settings.json"
    assert str(gemini.settings_path({"HOME": "/h", "GEMINI_CLI_HOME": "/g"})) == "/g/.gemini/settings.json"
    assert str(qwen.settings_path({"HOME": "/h"})) == "/h/.qwen/settings.json"
    assert str(qwen.settings_path({"HOME": "/h", "QWEN_HOME": "/q"})) == "/q/settings.json"


def test_command_round_trip_with_a_backup(tmp_path: Path) -> None:
    """install -> backup kept, again -> no change, uninstall -> the user's very bytes, backup gone."""
    env = {"HOME": str(tmp_path)}
    fmt = format_named("gemini")
    path = tmp_path / ".gemini" / "settings.json"
    path.parent.mkdir()
    path.write_text(GEMINI_USER)
    assert "your file is kept" in install_one(fmt, env, TMUX_ORC)
    assert "already installed" in install_one(fmt, env, TMUX_ORC)
    assert status_one(fmt, env, TMUX_ORC).startswith("gemini: installed")
    assert "as before install" in uninstall_one(fmt, env)
    assert path.read_text() == GEMINI_USER
    assert not (tmp_path / ".gemini" / "settings.json.tmux-orc.bak").exists()


def test_every_offered_hook_kind_has_an_installer() -> None:
    offers = {d.name: d.hooks for d in builtin_definitions()}
    assert offers["gemini"] == ("gemini-settings",) and offers["qwen"] == ("qwen-settings",)
    assert {fmt.name for fmt in FORMATS} >= {name for name, kinds in offers.items() if kinds}


@pytest.mark.parametrize(("event", "details", "state"), [
    ("BeforeAgent", {}, State.WORKING),
    ("AfterAgent", {}, State.IDLE),
    ("Notification", {"notification_type": "ToolPermission"}, State.WAITING_INPUT),  # Gemini CLI
    ("Notification", {"notification_type": "permission_prompt"}, State.WAITING_INPUT),  # Qwen Code, Claude Code
    ("Notification", {"notification_type": "idle_prompt"}, State.IDLE),
])
def test_their_events_say_a_state(event: str, details: dict[str, str], state: State) -> None:
    assert event_state(AgentEvent(0.0, event, details)) is state
