"""``tmux-orc hooks install|uninstall|status`` on a private HOME: the files it writes, keeps and restores."""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.harness.daemon import TMUX_ORC

CLAUDE_SETTINGS = (
    '{\n  "theme": "dark",\n  "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "beep"}]}]}\n}\n'
)
CODEX_CONFIG = 'model = "o3"\n\n[tui]\nnotifications = true\n'


def hooks(home: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"CLAUDE_CONFIG_DIR", "CODEX_HOME"}}
    environment.update({"HOME": str(home), **env})
    return subprocess.run([TMUX_ORC, "hooks", *argv], env=environment, capture_output=True, text=True,
                          timeout=60, check=False)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    (home / ".codex").mkdir()
    (home / ".claude" / "settings.json").write_text(CLAUDE_SETTINGS)
    (home / ".codex" / "config.toml").write_text(CODEX_CONFIG)
    return home


def test_install_status_uninstall_round_trip(home: Path) -> None:
    settings, config = home / ".claude" / "settings.json", home / ".codex" / "config.toml"
    gemini, qwen = home / ".gemini" / "settings.json", home / ".qwen" / "settings.json"
    assert hooks(home, "status").stdout.splitlines() == [
        f"claude: not installed ({settings})", f"codex: not installed ({config})",
        f"gemini: not installed ({gemini} does not exist)", f"qwen: not installed ({qwen} does not exist)"]
    done = hooks(home, "install")
    assert done.returncode == 0, done.stderr
    assert f"your file is kept as {settings}.tmux-orc.bak" in done.stdout
    assert (home / ".claude" / "settings.json.tmux-orc.bak").read_text() == CLAUDE_SETTINGS
    installed = json.loads(settings.read_text())
    assert installed["theme"] == "dark"
    assert installed["hooks"]["Notification"][0]["hooks"][0]["command"] == f"{TMUX_ORC} hook Notification"
    assert tomllib.loads(config.read_text())["notify"] == [TMUX_ORC, "hook", "codex-notify"]
    before = settings.read_bytes(), config.read_bytes()
    again = hooks(home, "install")
    assert again.stdout.count("already installed") == 2
    assert (settings.read_bytes(), config.read_bytes()) == before
    assert hooks(home, "status").stdout.splitlines()[:2] == [
        f"claude: installed ({settings})", f"codex: installed ({config})"]
    gone = hooks(home, "uninstall")
    assert gone.returncode == 0, gone.stderr
    assert settings.read_text() == CLAUDE_SETTINGS and config.read_text() == CODEX_CONFIG
    assert sorted(p.name for p in (home / ".claude").iterdir()) == ["settings.json"]
    assert sorted(p.name for p in (home / ".codex").iterdir()) == ["config.toml"]


def test_config_dirs_from_the_environment_and_a_new_file(tmp_path: Path) -> None:
    home, claude_dir, codex_dir = tmp_path / "home", tmp_path / "claude-cfg", tmp_path / "codex-cfg"
    home.mkdir()
    env = {"CLAUDE_CONFIG_DIR": str(claude_dir), "CODEX_HOME": str(codex_dir)}
    nothing = hooks(home, "install", **env)
    assert nothing.returncode == 1 and "--agent" in nothing.stderr  # neither CLI set up: say how
    done = hooks(home, "install", "--agent", "claude", **env)
    assert done.returncode == 0, done.stderr
    assert (claude_dir / "settings.json").exists() and not (home / ".claude").exists()
    assert not (claude_dir / "settings.json.tmux-orc.bak").exists()  # nothing of the user's to keep
    assert "installed (" in hooks(home, "status", "--agent", "claude", **env).stdout
    assert "tmux-orc had created it" in hooks(home, "uninstall", **env).stdout
    assert list(claude_dir.iterdir()) == []


def test_the_users_codex_notify_is_refused_not_replaced(home: Path) -> None:
    config = home / ".codex" / "config.toml"
    mine = 'notify = ["notify-send", "codex"]\n' + CODEX_CONFIG
    config.write_text(mine)
    done = hooks(home, "install")
    assert done.returncode == 1
    assert "notify is already set" in done.stderr and "notify-send" in done.stderr
    assert config.read_text() == mine
    assert "claude: installed" in done.stdout  # the other CLI is still done
    assert "your own program" in hooks(home, "status", "--agent", "codex").stdout


def test_a_symlinked_settings_file_stays_a_symlink(home: Path, tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles" / "claude-settings.json"
    dotfiles.parent.mkdir()
    settings = home / ".claude" / "settings.json"
    dotfiles.write_text(settings.read_text())
    settings.unlink()
    settings.symlink_to(dotfiles)
    assert hooks(home, "install", "--agent", "claude").returncode == 0
    assert settings.is_symlink() and "tmux-orc hook Stop" in dotfiles.read_text()
    assert hooks(home, "uninstall", "--agent", "claude").returncode == 0
    assert settings.is_symlink() and dotfiles.read_text() == CLAUDE_SETTINGS


def test_a_broken_settings_file_is_left_alone(home: Path) -> None:
    settings = home / ".claude" / "settings.json"
    settings.write_text("{ oops")
    done = hooks(home, "install", "--agent", "claude")
    assert done.returncode == 1 and str(settings) in done.stderr
    assert settings.read_text() == "{ oops"
    assert "unknown" in hooks(home, "status", "--agent", "claude").stdout
