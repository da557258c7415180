"""Settings: environment ``TMUX_ORC_*`` over ``$XDG_CONFIG_HOME/tmux-orc/config.toml`` over defaults.

``load_settings()`` either returns valid :class:`Settings` or raises :class:`ConfigError` whose message is
one line naming the setting, the value and what is allowed (the daemon exits 78 with it).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from tmux_orc.model import Role, RolloutStage

ENV_PREFIX = "TMUX_ORC_"
EX_CONFIG = 78


class ConfigError(Exception):
    """A setting has a value the daemon cannot run with. The message is one line for a person."""


def config_file_path(env: Mapping[str, str] | None = None) -> Path:
    """Where config.toml is looked for (``TMUX_ORC_CONFIG_FILE`` overrides the XDG location)."""
    env = os.environ if env is None else env
    explicit = env.get(ENV_PREFIX + "CONFIG_FILE")
    if explicit:
        return Path(explicit)
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "tmux-orc" / "config.toml"


def default_state_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$STATE_DIRECTORY`` under systemd, else ``$XDG_STATE_HOME/tmux-orc``."""
    env = os.environ if env is None else env
    if env.get("STATE_DIRECTORY"):
        # systemd may pass several colon-separated directories; the first is ours.
        return Path(env["STATE_DIRECTORY"].split(":")[0])
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".local" / "state")
    return Path(base) / "tmux-orc"


class Settings(BaseSettings):
    """Every knob of the daemon. Field names are the TOML keys; ``TMUX_ORC_<NAME>`` the env variables."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    # --- what to watch, how often
    tmux_socket: str | None = None
    interval: float = Field(2.0, gt=0, le=3600)
    state_dir: Path | None = None
    stuck_after: float = Field(300.0, gt=0)
    starting_after: float = Field(60.0, gt=0, description="seconds a launching agent may take to show its UI")
    agent_window_prefix: str = Field("Claude-", min_length=1)
    roles: dict[str, Role] = Field(default_factory=dict, description="window name -> role overrides")
    command_timeout: float = Field(2.0, gt=0, le=60)
    control_max_in_flight: int = Field(64, ge=1, le=4096, description="tmux commands pipelined at once")
    full_refresh_every: int = Field(10, ge=1, description="cycles between captures of every pane")
    rules_file: Path | None = Field(None, description="TOML file of extra detection rules")

    # --- rollout of monitoring strategies
    # initial stage when none was persisted: every session on the new strategy (a plugin named as
    # new_strategy starts at canary unless a stage is configured); `off` is the operator's choice
    rollout_stage: RolloutStage = RolloutStage.FULL
    rollout_canary_fraction: float = Field(0.1, ge=0, le=1)
    rollout_partial_fraction: float = Field(0.5, ge=0, le=1)
    rollout_auto: bool = True
    rollout_promote_after: int = Field(30, ge=1, description="healthy cycles before promotion")
    new_strategy: str = Field("concurrent", min_length=1)
    strategy_plugins: list[str] = Field(default_factory=list, description="allow-list of plugin names")

    # --- alerts
    desktop_notifications: bool = True
    notify_pm: bool = True
    alert_cooldown: float = Field(300.0, ge=0)
    waiting_alert_after: float = Field(60.0, ge=0)
    idle_alert_after: float = Field(600.0, ge=0)
    alert_queue_max: int = Field(200, ge=1)

    # --- recovery
    pm_spawn_command: str = Field("claude --continue", min_length=1)
    auto_recover_pm: bool = True
    recovery_confirmations: int = Field(3, ge=1)
    recovery_grace: float = Field(120.0, ge=0)
    recovery_cooldown: float = Field(300.0, ge=0)
    recovery_max_attempts: int = Field(3, ge=1)

    # --- observability
    log_format: Literal["journal", "json", "text"] | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    metrics_file: Path | None = None

    @field_validator("tmux_socket", "pm_spawn_command")
    @classmethod
    def _no_control_chars(cls, value: str | None) -> str | None:
        if value is not None and re.search(r"[\x00-\x1f\x7f]", value):
            raise ValueError("must not contain control characters")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file_path())
        return (init_settings, env_settings, toml)

    @field_validator("state_dir", "metrics_file", "rules_file", mode="before")
    @classmethod
    def _no_empty_path(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise ValueError("must not be empty (leave the setting out for the default)")
        return value

    @field_validator("rules_file")
    @classmethod
    def _rules_file_loads(cls, value: Path | None) -> Path | None:
        if value is not None:
            from tmux_orc.detect.profiles import load_profiles

            load_profiles(value)  # raises ValueError naming the file and the problem
        return value

    def resolved_state_dir(self) -> Path:
        return self.state_dir if self.state_dir is not None else default_state_dir()

    def resolved_log_format(self, env: Mapping[str, str] | None = None) -> str:
        if self.log_format is not None:
            return self.log_format
        env = os.environ if env is None else env
        return "journal" if env.get("JOURNAL_STREAM") else "text"


def _describe(error: Mapping[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", ()) if part != "__root__"]
    name = loc[0] if loc else "?"
    where = f"{ENV_PREFIX}{name.upper()}" + ("".join(f"[{p}]" for p in loc[1:]) if len(loc) > 1 else "")
    value = error.get("input")
    shown = repr(value) if not isinstance(value, dict) else "{...}"
    if len(shown) > 80:
        shown = shown[:77] + "..."
    msg = str(error.get("msg", "invalid"))
    if error.get("type") == "extra_forbidden":
        return f"invalid setting {name!r} in {config_file_path()}: unknown setting"
    return f"invalid setting {where}={shown}: {msg}"


def load_settings(**overrides: Any) -> Settings:
    """Read and validate the settings, or raise :class:`ConfigError` with a one-line message."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors()[0])) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid config file {config_file_path()}: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {config_file_path()}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"invalid config file {config_file_path()}: not UTF-8 text ({exc.reason} at byte "
                          f"{exc.start})") from None
