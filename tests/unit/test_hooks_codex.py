"""Codex config.toml: our notify added as two lines and removed byte for byte; the user's own notify kept."""

from __future__ import annotations

import tomllib

import pytest

from tmux_orc.cli.hooks import codex

TMUX_ORC = "/opt/venv/bin/tmux-orc"
USER_CONFIG = 'model = "o3"  # mine\n\n[tui]\nnotifications = true\n'


def test_install_adds_a_top_level_notify_and_keeps_the_rest() -> None:
    text = codex.install_text(USER_CONFIG, TMUX_ORC)
    parsed = tomllib.loads(text)
    assert parsed["notify"] == [TMUX_ORC, "hook", "codex-notify"]
    assert parsed["model"] == "o3" and parsed["tui"] == {"notifications": True}
    assert text.endswith(USER_CONFIG)
    assert codex.install_text(text, TMUX_ORC) == text
    assert codex.status_text(text, TMUX_ORC) == ("installed", "")


def test_uninstall_is_byte_equal() -> None:
    installed = codex.install_text(USER_CONFIG, TMUX_ORC)
    assert codex.uninstall_text(installed, USER_CONFIG) == USER_CONFIG
    assert codex.uninstall_text(installed, None) == USER_CONFIG
    assert codex.uninstall_text(codex.install_text("", TMUX_ORC), None) is None


def test_the_users_own_notify_is_never_replaced() -> None:
    mine = 'notify = ["notify-send", "codex"]\n' + USER_CONFIG
    with pytest.raises(codex.NotifyTaken, match="notify-send"):
        codex.install_text(mine, TMUX_ORC)
    state, why = codex.status_text(mine, TMUX_ORC)
    assert state == "not installed" and "notify-send" in why
    assert codex.uninstall_text(mine, None) == mine


def test_an_older_install_is_outdated_and_replaced() -> None:
    old = codex.install_text(USER_CONFIG, "/old/bin/tmux-orc")
    assert codex.status_text(old, TMUX_ORC)[0] == "outdated"
    new = codex.install_text(old, TMUX_ORC)
    assert tomllib.loads(new)["notify"][0] == TMUX_ORC
    assert new.count("notify =") == 1


def test_paths_needing_escapes_stay_valid_toml() -> None:
    program = '/home/a "q" \\ ü/bin/tmux-orc'
    text = codex.install_text(USER_CONFIG, program)
    assert tomllib.loads(text)["notify"][0] == program
    assert codex.uninstall_text(text, None) == USER_CONFIG


def test_invalid_toml_is_refused() -> None:
    with pytest.raises(ValueError):
        codex.install_text("model = = 1\n", TMUX_ORC)


def test_event_name_and_config_path() -> None:
    assert codex.event_name("codex-notify", {"type": "agent-turn-complete"}) == "agent-turn-complete"
    assert codex.event_name("codex-notify", {"type": "bad name!"}) == "codex-notify"
    assert codex.event_name("codex-notify", {}) == "codex-notify"
    assert str(codex.config_path({"HOME": "/h"})) == "/h/.codex/config.toml"
    assert str(codex.config_path({"HOME": "/h", "CODEX_HOME": "/x"})) == "/x/config.toml"
