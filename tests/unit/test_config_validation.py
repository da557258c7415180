"""Every invalid setting, simple or complex, is one ConfigError line naming it; sensible bounds hold."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tmux_orc.config import MAX_MESSAGE, ConfigError, Settings, load_settings
from tmux_orc.service.daemon import load_daemon_settings

FLOATS = [name for name, field in Settings.model_fields.items() if field.annotation is float]


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in [k for k in os.environ if k.startswith("TMUX_ORC_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    yield


def refused(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for key, value in env.items():
        monkeypatch.setenv(f"TMUX_ORC_{key.upper()}", value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "\n" not in message and len(message) <= MAX_MESSAGE
    return message


def test_defaults_load() -> None:
    assert load_settings().interval == 2.0


@pytest.mark.parametrize("value", ["notjson", '{"a":', "{'a': 'pm'}"])
def test_roles_that_are_not_json(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    message = refused(monkeypatch, roles=value)
    assert message.startswith("invalid setting TMUX_ORC_ROLES=") and "JSON object" in message


def test_plugins_given_as_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refused(monkeypatch, strategy_plugins="a,b")
    assert "TMUX_ORC_STRATEGY_PLUGINS='a,b'" in message and "JSON list" in message


def test_complex_value_nested_too_deeply(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "TMUX_ORC_ROLES=" in refused(monkeypatch, roles="[" * 100_000)


@pytest.mark.parametrize("value", ["1e-9", "0", "0.05", "-1", "nan", "inf", "3601"])
def test_interval_bounds(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    assert "TMUX_ORC_INTERVAL" in refused(monkeypatch, interval=value)


def test_interval_of_a_tenth_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMUX_ORC_INTERVAL", "0.1")
    assert load_settings().interval == 0.1


@pytest.mark.parametrize("value", ["-1", "1.5", "many", "1000001"])
def test_spinner_stream_budget_bounds(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    assert "TMUX_ORC_SPINNER_STREAM_BUDGET" in refused(monkeypatch, spinner_stream_budget=value)


def test_spinner_stream_budget_of_zero_holds_from_the_first_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMUX_ORC_SPINNER_STREAM_BUDGET", "0")
    assert load_settings().spinner_stream_budget == 0


@pytest.mark.parametrize("name", FLOATS)
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "Infinity"])
def test_every_float_must_be_finite(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    assert {"stuck_after", "starting_after", "recovery_grace", "alert_cooldown"} <= set(FLOATS)
    message = refused(monkeypatch, **{name: value})
    assert f"TMUX_ORC_{name.upper()}" in message


def test_empty_tmux_socket_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "TMUX_ORC_TMUX_SOCKET=''" in refused(monkeypatch, tmux_socket="")
    assert "TMUX_ORC_TMUX_SOCKET" in refused(monkeypatch, tmux_socket="   ")


def test_rules_file_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    fifo = tmp_path / "rules.fifo"
    os.mkfifo(fifo)
    assert "not a regular file" in refused(monkeypatch, rules_file=str(fifo))
    assert "not a regular file" in refused(monkeypatch, rules_file=str(tmp_path))


def test_rules_file_with_a_pattern_nested_too_deeply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rules]]\nkind = "claude"\nname = "n"\nstate = "idle"\n'
                     f'pattern = "{"(" * 5000}{")" * 5000}"\n')
    monkeypatch.setenv("TMUX_ORC_RULES_FILE", str(rules))
    with pytest.raises(ConfigError) as info:  # the daemon checks the rules when it loads them
        load_daemon_settings()
    assert "TMUX_ORC_RULES_FILE" in str(info.value) and "\n" not in str(info.value)


def test_metrics_file_that_is_a_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "is a directory" in refused(monkeypatch, metrics_file=str(tmp_path))


def test_config_file_that_is_a_directory_or_fifo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "not a regular file" in refused(monkeypatch, config_file=str(tmp_path))
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    assert "not a regular file" in refused(monkeypatch, config_file=str(fifo))


@pytest.mark.parametrize(("text", "needle"), [
    ("interval = inf\n", "INTERVAL"),
    ("stuck_after = nan\n", "STUCK_AFTER"),
    ('roles = "notatable"\n', "ROLES"),
    ("roles = { x = 1 }\n", "ROLES"),
    ("strategy_plugins = [1, 2]\n", "STRATEGY_PLUGINS"),
    ('tmux_socket = ""\n', "TMUX_SOCKET"),
    ('state_dir = "a\\u0000b"\n', "STATE_DIR"),
    ("nonsense = 1\n", "unknown setting"),
    ("interval = \n", "invalid config file"),
    ("roles = " + "[" * 100_000 + "\n", "nested too deeply"),
])
def test_config_file_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, needle: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    assert needle in refused(monkeypatch, config_file=str(path))


def test_long_values_are_cut_in_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refused(monkeypatch, interval="9" * 100_000)
    assert len(message) <= MAX_MESSAGE
