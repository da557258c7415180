"""Claude Code settings.json: our hooks merged in and taken out, the user's settings kept as they are."""

from __future__ import annotations

import json

import pytest

from tmux_orc.cli.hooks import claude

TMUX_ORC = "/opt/venv/bin/tmux-orc"
USER_SETTINGS = """{
  "model": "opus",
  "permissions": {"allow": ["Bash(ls:*)"]},
  "hooks": {
    "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
    "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "audit.sh"}]}]
  }
}
"""


def commands(settings: dict[str, object], event: str) -> list[str]:
    hooks = settings["hooks"]
    assert isinstance(hooks, dict)
    return [h["command"] for group in hooks.get(event, []) for h in group["hooks"]]


def test_install_into_nothing() -> None:
    text = claude.install_text("", TMUX_ORC)
    settings = json.loads(text)
    assert list(settings) == ["hooks"]
    for event in claude.EVENTS:
        assert commands(settings, event) == [f"{TMUX_ORC} hook {event}"]
    assert settings["hooks"]["Notification"][0] == {
        "hooks": [{"type": "command", "command": f"{TMUX_ORC} hook Notification", "timeout": 5}]
    }
    assert claude.status_text(text, TMUX_ORC) == ("installed", "")


def test_install_keeps_everything_of_the_user() -> None:
    text = claude.install_text(USER_SETTINGS, TMUX_ORC)
    settings = json.loads(text)
    assert settings["model"] == "opus" and settings["permissions"] == {"allow": ["Bash(ls:*)"]}
    assert commands(settings, "Stop") == ["notify-send done", f"{TMUX_ORC} hook Stop"]
    assert settings["hooks"]["PreToolUse"] == json.loads(USER_SETTINGS)["hooks"]["PreToolUse"]
    assert text.startswith('{\n  "model"')  # the file's own indent (2) and key order
    assert claude.install_text(text, TMUX_ORC) == text  # idempotent


def test_uninstall_gives_back_the_users_bytes() -> None:
    installed = claude.install_text(USER_SETTINGS, TMUX_ORC)
    assert claude.uninstall_text(installed, USER_SETTINGS) == USER_SETTINGS
    # Without the backup: the same content, re-rendered.
    assert json.loads(claude.uninstall_text(installed, None) or "") == json.loads(USER_SETTINGS)


def test_uninstall_keeps_what_the_user_added_since() -> None:
    installed = json.loads(claude.install_text(USER_SETTINGS, TMUX_ORC))
    installed["theme"] = "dark"
    installed["hooks"]["Notification"][0]["hooks"].append({"type": "command", "command": "beep"})
    text = claude.uninstall_text(json.dumps(installed, indent=2), USER_SETTINGS)
    assert text is not None
    left = json.loads(text)
    assert left["theme"] == "dark"
    assert commands(left, "Notification") == ["beep"]  # their handler in our group stays
    assert commands(left, "Stop") == ["notify-send done"]
    assert "UserPromptSubmit" not in left["hooks"]


def test_uninstall_of_a_file_we_created_removes_it() -> None:
    assert claude.uninstall_text(claude.install_text("", TMUX_ORC), None) is None
    assert claude.uninstall_text("{}\n", None) is None


def test_uninstall_without_ours_changes_nothing() -> None:
    assert claude.uninstall_text(USER_SETTINGS, None) == USER_SETTINGS


def test_status_outdated_and_reinstall_moves_to_this_install() -> None:
    old = claude.install_text(USER_SETTINGS, "/old/venv/bin/tmux-orc")
    state, why = claude.status_text(old, TMUX_ORC)
    assert state == "outdated" and "/old/venv/bin/tmux-orc" in why
    new = json.loads(claude.install_text(old, TMUX_ORC))
    assert commands(new, "Stop") == ["notify-send done", f"{TMUX_ORC} hook Stop"]
    partial = json.loads(claude.install_text("", TMUX_ORC))
    del partial["hooks"]["Stop"]
    assert claude.status(partial, TMUX_ORC) == ("outdated", "no hook for Stop")
    assert claude.status_text(USER_SETTINGS, TMUX_ORC) == ("not installed", "")


def test_paths_with_spaces_are_quoted_for_the_shell() -> None:
    program = "/home/a user/venv/bin/tmux-orc"
    settings = json.loads(claude.install_text("", program))
    assert commands(settings, "Stop") == ["'/home/a user/venv/bin/tmux-orc' hook Stop"]
    assert claude.status(settings, program) == ("installed", "")


@pytest.mark.parametrize("text", ["[1, 2]", "{not json", '{"hooks": []}'])
def test_a_file_that_is_not_settings_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        claude.install_text(text, TMUX_ORC)


def test_settings_path_follows_claude_config_dir_and_home() -> None:
    assert str(claude.settings_path({"HOME": "/h"})) == "/h/.claude/settings.json"
    assert str(claude.settings_path({"HOME": "/h", "CLAUDE_CONFIG_DIR": "/c"})) == "/c/settings.json"
