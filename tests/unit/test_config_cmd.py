"""``tmux-orc config``: sources, redaction; the example config lists every setting with its default."""

from __future__ import annotations

import io
import json
import os
import re
import tomllib
from pathlib import Path

import pytest

from tmux_orc.cli import config_cmd, config_doc
from tmux_orc.config import Settings

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "packaging" / "config.toml.example"


@pytest.mark.parametrize(("value", "shown"), [
    ("https://user:pw@hooks.slack.com/services/T0/B0/XYZ", "https://hooks.slack.com"),
    ("json://localhost:8080/path?token=abc", "json://localhost"),
    ("mailto://me:secret@mail.example.org", "mailto://mail.example.org"),
    ("tgram://123456789:AAH-secret-token/4242", "tgram://…"),
    ("discord://webhook_id/webhook_token", "discord://…"),
    ("not a url at all", config_cmd.REDACTED),
])  # fmt: skip
def test_redact_url_keeps_scheme_and_host_only(value: str, shown: str) -> None:
    assert config_cmd.redact_url(value) == shown


def test_redact_applies_to_secret_names_only() -> None:
    assert config_cmd.redact("interval", 2.0) == 2.0
    assert config_cmd.redact("pm_spawn_command", "claude --continue") == "claude --continue"
    assert config_cmd.redact("notify_urls", ["https://a:b@x.example.com/p", "tgram://t/c"]) == [
        "https://x.example.com", "tgram://…"]
    assert config_cmd.redact("api_token", "sk-12345") == config_cmd.REDACTED
    assert config_cmd.redact("notify_urls_file", "/home/me/urls.txt") == "/home/me/urls.txt"  # a path, not a secret
    assert config_cmd.redact("db_password", None) is None


def test_sources_environment_over_file_over_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text('interval = 3.0\nstuck_after = 100.0\n')
    for key in list(os.environ):
        if key.upper().startswith("TMUX_ORC_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("TMUX_ORC_CONFIG_FILE", str(path))
    monkeypatch.setenv("tmux_orc_stuck_after", "50")  # names match case-insensitively, as pydantic-settings reads them
    out, err = io.StringIO(), io.StringIO()
    assert config_cmd.run_config(json_output=True, out=out, err=err) == 0
    report = json.loads(out.getvalue())
    settings = report["settings"]
    assert report["config_file"] == str(path) and report["config_file_exists"] is True
    assert settings["interval"] == {"value": 3.0, "source": "config file", "origin": str(path)}
    assert settings["stuck_after"]["value"] == 50.0 and settings["stuck_after"]["source"] == "environment"
    assert settings["stuck_after"]["origin"].upper() == "TMUX_ORC_STUCK_AFTER"
    assert settings["pm_spawn_command"] == {"value": None, "source": "default", "origin": ""}  # each CLI's own resume
    assert set(settings) == set(Settings.model_fields)

    text = io.StringIO()
    assert config_cmd.run_config(json_output=False, out=text, err=err) == 0
    lines = text.getvalue().splitlines()
    assert lines[0] == f"config file: {path}"
    assert re.match(r"interval\s+3\.0\s+config file$", next(line for line in lines if line.startswith("interval")))


def test_invalid_settings_name_the_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TMUX_ORC_CONFIG_FILE", str(tmp_path / "none.toml"))
    monkeypatch.setenv("TMUX_ORC_INTERVAL", "abc")
    out, err = io.StringIO(), io.StringIO()
    assert config_cmd.run_config(json_output=False, out=out, err=err) == 1
    assert "TMUX_ORC_INTERVAL" in err.getvalue() and out.getvalue() == ""


# --- the example config ------------------------------------------------------------------------------


def test_example_is_current() -> None:
    assert EXAMPLE.read_text() == config_doc.render_example(), "run: .venv/bin/python scripts/gen_data.py"


def test_example_lists_every_setting_with_a_meaning() -> None:
    text = EXAMPLE.read_text()
    for name, field in Settings.model_fields.items():
        assert re.search(rf"^#{name} =", text, re.M), f"{name} missing from {EXAMPLE.name}"
        assert config_doc.field_help(name, field), f"{name} has no description (Field(description=...))"
        assert f"TMUX_ORC_{name.upper()}" in text


def test_example_defaults_uncommented_are_the_defaults() -> None:
    """Uncommenting every default line gives a valid TOML file that loads to the default settings."""
    lines = [line[1:] for line in EXAMPLE.read_text().splitlines() if re.match(r"^#\w+ = ", line)]
    values = tomllib.loads("\n".join(lines))
    defaults = Settings.model_construct().model_dump(mode="json")
    unset = {name for name, field in Settings.model_fields.items() if config_doc.default_of(field) is None}
    for name, value in values.items():
        if name not in unset:
            assert value == defaults[name], name
    assert set(values) - unset == set(Settings.model_fields) - unset
