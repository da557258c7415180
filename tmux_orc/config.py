"""Settings: environment ``TMUX_ORC_*`` over ``$XDG_CONFIG_HOME/tmux-orc/config.toml`` over defaults.

``load_settings()`` either returns valid :class:`Settings` or raises :class:`ConfigError` whose message is
one line naming the setting, the value and what is allowed (the daemon exits 78 with it).
"""

from __future__ import annotations

import json
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from tmux_orc import sockets
from tmux_orc.model import CONCURRENT_STRATEGY, Role, RolloutStage
from tmux_orc.secret_urls import SecretUrl, read_url_file, split_url_list

ENV_PREFIX = "TMUX_ORC_"
EX_CONFIG = 78


MAX_MESSAGE = 300  # characters of a ConfigError message


class ConfigError(Exception):
    """A setting has a value the daemon cannot run with. The message is one line for a person."""

    def __init__(self, message: str) -> None:
        line = " ".join(message.split())  # one line, whatever the parts quoted
        super().__init__(line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 3] + "...")


def config_file_path(env: Mapping[str, str] | None = None) -> Path:
    """Where config.toml is looked for (``TMUX_ORC_CONFIG_FILE`` overrides the XDG location)."""
    env = os.environ if env is None else env
    explicit = env.get(ENV_PREFIX + "CONFIG_FILE")
    if explicit:
        return Path(explicit)
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "tmux-orc" / "config.toml"


def default_agents_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/tmux-orc/agents``: where a person's own agent definitions go."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "tmux-orc" / "agents"


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

    # allow_inf_nan=False: every float setting is a finite number (inf / nan are refused, not "never").
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True, allow_inf_nan=False)

    # --- what to watch, how often
    tmux_socket: Annotated[str | list[str] | None, NoDecode] = Field(
        None, description="tmux servers to watch: socket paths or tmux -L names, one or a list "
                          "(unset: every server of yours under $TMUX_TMPDIR/tmux-UID or /tmp/tmux-UID)")
    interval: float = Field(2.0, ge=0.1, le=3600)
    state_dir: Path | None = None
    stuck_after: float = Field(300.0, gt=0)
    starting_after: float = Field(60.0, gt=0, description="seconds a launching agent may take to show its UI")
    agent_window_prefix: str = Field("Claude-", min_length=1)
    roles: dict[str, Role] = Field(default_factory=dict, description="window name -> role overrides")
    command_timeout: float = Field(2.0, gt=0, le=60)
    control_max_in_flight: int = Field(64, ge=1, le=4096, description="tmux commands pipelined at once")
    full_refresh_every: int = Field(10, ge=1, description="cycles between captures of every pane")
    spinner_hold: float = Field(
        1.0, ge=0, le=10,
        description="seconds tmux holds back the output of a pane printing only spinner frames and clocks, "
                    "while a tmux server streams more than spinner_stream_budget such frames a second (0: never, "
                    "every frame streamed); a dialog drawn over a stopped spinner is then read up to this + 0.35 s "
                    "later")
    spinner_stream_budget: int = Field(
        300, ge=0, le=1_000_000,
        description="spinner frames and clocks a second one tmux server streams before spinner_hold starts "
                    "holding them back (0: held from the first frame; fewer frames cost the tmux server less, "
                    "a dialog drawn over a stopped spinner is then read up to spinner_hold + 0.35 s later)")
    rules_file: Path | None = Field(None, description="TOML file of extra detection rules")

    # --- rollout of monitoring strategies
    # initial stage when none was persisted: every session on the new strategy (a plugin named as
    # new_strategy starts at canary unless a stage is configured); `off` is the operator's choice
    rollout_stage: RolloutStage = RolloutStage.FULL
    rollout_canary_fraction: float = Field(0.1, ge=0, le=1)
    rollout_partial_fraction: float = Field(0.5, ge=0, le=1)
    rollout_auto: bool = True
    rollout_promote_after: int = Field(30, ge=1, description="healthy cycles before promotion")
    new_strategy: str = Field(CONCURRENT_STRATEGY, min_length=1)
    strategy_plugins: list[str] = Field(default_factory=list, description="allow-list of plugin names")

    # --- alerts
    desktop_notifications: bool = True
    notify_pm: bool = True
    alert_cooldown: float = Field(300.0, ge=0)
    waiting_alert_after: float = Field(60.0, ge=0)
    idle_alert_after: float = Field(600.0, ge=0)
    alert_queue_max: int = Field(200, ge=1)

    # --- outside channels (Apprise URLs) and auto-resume; see README "Alerts on your phone"
    notify_urls: Annotated[list[SecretUrl], NoDecode] = Field(
        default_factory=list, repr=False,
        description="Apprise URLs alerts also go to, optionally tagged (critical=..., crashed,stuck=...)")
    notify_urls_file: Path | None = Field(None, description="Apprise URLs holding secrets, one a line; mode 0600")
    notify_min_severity: Literal["info", "warning", "critical"] = Field(
        "warning", description="least severe alert sent to a URL without a severity tag")
    notify_batch_delay: float = Field(5.0, ge=0, le=3600, description="seconds alerts are gathered per message")
    notify_retries: int = Field(3, ge=0, le=10, description="retries of a failed send, with backoff")
    notify_timeout: float = Field(10.0, gt=0, le=300, description="seconds one send may take")
    auto_resume: bool | list[Role] = Field(
        False, description="after a usage limit resets, send resume_message: true, false or a list of roles")
    resume_message: str = Field("continue", min_length=1, max_length=500,
                                description="what auto-resume types into the agent's prompt")
    resume_margin: float = Field(60.0, ge=0, le=3600, description="seconds after the reset before resuming")

    # --- recovery
    pm_spawn_command: str | None = Field(
        None, min_length=1,
        description="what brings a crashed PM back; default: its own CLI's resume command (claude --continue)")
    agents_dir: Path | None = Field(None, description="folder of extra agent definitions (*.toml)")
    auto_recover_pm: bool = True
    recovery_confirmations: int = Field(3, ge=1)
    recovery_grace: float = Field(120.0, ge=0)
    recovery_cooldown: float = Field(300.0, ge=0)
    recovery_max_attempts: int = Field(3, ge=1)

    # --- observability
    log_format: Literal["journal", "json", "text"] | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    metrics_file: Path | None = None

    @field_validator("pm_spawn_command")
    @classmethod
    def _no_control_chars(cls, value: str | None) -> str | None:
        if value is not None and re.search(r"[\x00-\x1f\x7f]", value):
            raise ValueError("must not contain control characters")
        return value

    @field_validator("tmux_socket", mode="before")
    @classmethod
    def _socket_entries(cls, value: object) -> object:
        """One string (a path or a ``-L`` name) as it is, or a list of them (an environment value
        separated by commas or spaces); each entry checked (:func:`tmux_orc.sockets.check_entry`)."""
        if isinstance(value, str):
            value = sockets.parse_setting_text(value) if value.strip() else value
        if isinstance(value, str):
            return sockets.check_entry(value)
        if isinstance(value, list | tuple):
            if not value:
                raise ValueError("must name at least one socket (leave the setting out to watch every "
                                 "tmux server of yours)")
            return [sockets.check_entry(entry) for entry in value]
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

    @field_validator("notify_urls", mode="before")
    @classmethod
    def _url_list(cls, value: object) -> object:
        return split_url_list(value) if isinstance(value, str) else value

    @field_validator("auto_resume", mode="before")
    @classmethod
    def _role_list(cls, value: object) -> object:
        booleans = ("true", "false", "1", "0", "yes", "no", "on", "off")
        if isinstance(value, str) and value.strip().lower() not in booleans:  # "developer,qa" or a JSON list
            return [part.strip() for part in value.strip().strip("[]").replace('"', "").split(",") if part.strip()]
        return value

    @field_validator("notify_urls_file")
    @classmethod
    def _url_file_private(cls, value: Path | None) -> Path | None:
        if value is not None:
            read_url_file(value)  # raises ValueError: not private, or a line is not a URL (never shown)
        return value

    @field_validator("resume_message")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if re.search(r"[\x00-\x1f\x7f]", value):
            raise ValueError("must be one line without control characters")
        return value

    def channel_urls(self) -> list[SecretUrl]:
        """``notify_urls`` and the lines of ``notify_urls_file`` (read now: a reload picks up edits)."""
        from_file = read_url_file(self.notify_urls_file) if self.notify_urls_file is not None else []
        return [*self.notify_urls, *from_file]

    @field_validator("state_dir", "metrics_file", "rules_file", "agents_dir", mode="before")
    @classmethod
    def _no_empty_path(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise ValueError("must not be empty (leave the setting out for the default)")
        return value

    def resolved_agents_dir(self) -> Path:
        """``agents_dir``, or ``$XDG_CONFIG_HOME/tmux-orc/agents``."""
        return self.agents_dir if self.agents_dir is not None else default_agents_dir()

    @field_validator("state_dir", "metrics_file", "rules_file", "agents_dir")
    @classmethod
    def _no_nul_in_path(cls, value: Path | None) -> Path | None:
        if value is not None and "\x00" in str(value):
            raise ValueError("must not contain a NUL character")
        return value

    @field_validator("metrics_file")
    @classmethod
    def _metrics_file_writable_kind(cls, value: Path | None) -> Path | None:
        if value is not None and value.is_dir():
            raise ValueError("is a directory; name a file to write the metrics to")
        return value

    @field_validator("rules_file")
    @classmethod
    def _rules_file_regular(cls, value: Path | None) -> Path | None:
        if value is not None:  # its rules are checked by the daemon when it loads the agent definitions
            _require_regular_file(value, "rules file")
        return value

    def resolved_state_dir(self) -> Path:
        return self.state_dir if self.state_dir is not None else default_state_dir()

    def resolved_log_format(self, env: Mapping[str, str] | None = None) -> str:
        if self.log_format is not None:
            return self.log_format
        env = os.environ if env is None else env
        return "journal" if env.get("JOURNAL_STREAM") else "text"


MAX_SETTINGS_FILE = 1024 * 1024  # bytes: a config or rules file larger than this is refused

# What a complex setting given as an environment variable must look like (it is read as JSON).
_JSON_SHAPES = {
    "roles": 'a JSON object of window name -> role, e.g. {"Claude-lead": "pm"}',
    "strategy_plugins": 'a JSON list of names, e.g. ["mine"]',
}


def _require_regular_file(path: Path, what: str) -> None:
    """Refuse what would block or mislead a read (a FIFO, a device, a directory) and oversized files."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ValueError(f"cannot read {what} {path}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{what} {path} is not a regular file")
    if st.st_size > MAX_SETTINGS_FILE:
        raise ValueError(f"{what} {path} is larger than {MAX_SETTINGS_FILE} bytes")


def _shown(value: object) -> str:
    shown = repr(value) if not isinstance(value, dict) else "{...}"
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _describe_source_error(exc: SettingsError) -> str:
    """One line for an environment value pydantic-settings could not even parse (complex values are JSON)."""
    found = re.search(r'field "(\w+)"', str(exc))
    name = found.group(1) if found else "?"
    env_name = f"{ENV_PREFIX}{name.upper()}"
    value = os.environ.get(env_name)
    shape = _JSON_SHAPES.get(name, "valid JSON")
    if value is None:
        return f"invalid setting {name!r}: {shape} is expected"
    return f"invalid setting {env_name}={_shown(value)}: must be {shape}"


def _describe_too_deep() -> str:
    """One line for a value nested so deeply that parsing it ran out of stack (JSON in env, or TOML)."""
    for name in _JSON_SHAPES:
        env_name = f"{ENV_PREFIX}{name.upper()}"
        value = os.environ.get(env_name)
        if value is None:
            continue
        try:
            json.loads(value)
        except RecursionError:
            return f"invalid setting {env_name}={_shown(value)}: nested too deeply"
        except ValueError:
            continue
    return f"invalid config file {config_file_path()}: a value is nested too deeply"


def _describe(error: Mapping[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", ()) if part != "__root__"]
    name = loc[0] if loc else "?"
    where = f"{ENV_PREFIX}{name.upper()}" + ("".join(f"[{p}]" for p in loc[1:]) if len(loc) > 1 else "")
    shown = _shown(error.get("input"))
    if name == "notify_urls":
        shown = "(hidden: it may hold secrets)"
    msg = str(error.get("msg", "invalid"))
    if error.get("type") == "extra_forbidden":
        return f"invalid setting {name!r} in {config_file_path()}: unknown setting"
    return f"invalid setting {where}={shown}: {msg}"


def load_settings(**overrides: Any) -> Settings:
    """Read and validate the settings, or raise :class:`ConfigError` with a one-line message."""
    path = config_file_path()
    if os.path.lexists(path):
        try:
            _require_regular_file(path, "config file")
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors()[0])) from None
    except SettingsError as exc:
        raise ConfigError(_describe_source_error(exc)) from None
    except RecursionError:
        raise ConfigError(_describe_too_deep()) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid config file {config_file_path()}: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {config_file_path()}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"invalid config file {config_file_path()}: not UTF-8 text ({exc.reason} at byte "
                          f"{exc.start})") from None
