"""What each setting means, and the commented example config generated from the Settings model.

A field's own ``description`` (``Field(description=...)`` in tmux_orc/config.py) wins; :data:`HELP` covers
the fields that have none yet. ``scripts/gen_data.py`` writes ``packaging/config.toml.example`` from
:func:`render_example`, and a test keeps the file current and complete.
"""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from tmux_orc.config import ENV_PREFIX, Settings

HELP: dict[str, str] = {
    "interval": "seconds between monitoring cycles",
    "state_dir": "where persistent state lives (unset: $STATE_DIRECTORY, else $XDG_STATE_HOME/tmux-orc)",
    "stuck_after": "seconds a working screen may stay unchanged (no tool using CPU) before the agent is stuck",
    "agent_window_prefix": "window names starting with this are agents (Claude-pm, Claude-developer, ...)",
    "command_timeout": "seconds one tmux command may take",
    "rollout_stage": "initial rollout stage of the new strategy when none was persisted: off, canary, partial, full",
    "rollout_canary_fraction": "share of sessions on the new strategy at the canary stage",
    "rollout_partial_fraction": "share of sessions on the new strategy at the partial stage",
    "rollout_auto": "promote and roll back the new strategy by its health",
    "new_strategy": "name of the monitoring strategy being rolled out",
    "desktop_notifications": "show alerts through org.freedesktop.Notifications",
    "notify_pm": "type alerts into the PM agent's pane",
    "alert_cooldown": "seconds before the same alert about the same agent is repeated",
    "waiting_alert_after": "seconds an agent may wait for input before an alert",
    "idle_alert_after": "seconds an agent may sit idle before an alert",
    "alert_queue_max": "alerts kept queued for delivery at most",
    "pm_spawn_command": "command run in a new window of the session to bring a crashed PM back",
    "auto_recover_pm": "bring a crashed PM back by itself",
    "recovery_confirmations": "cycles a PM must be seen crashed before it is recovered",
    "recovery_grace": "seconds a recovered PM gets to come up before it is judged again",
    "recovery_cooldown": "seconds between recoveries of the same PM",
    "recovery_max_attempts": "recoveries of one PM before giving up",
    "log_format": "journal, json or text (unset: journal under systemd, else text)",
    "log_level": "debug, info, warning or error",
    "metrics_file": "write Prometheus text metrics here each cycle (unset: none)",
}

#: Values shown (commented out) for settings that are unset by default.
EXAMPLES: dict[str, Any] = {
    "tmux_socket": ["default", "work"],
    "state_dir": "/home/me/.local/state/tmux-orc",
    "rules_file": "/home/me/.config/tmux-orc/rules.toml",
    "log_format": "journal",
    "metrics_file": "/run/user/1000/tmux-orc.prom",
}

_BOUNDS = (("gt", "more than {}"), ("ge", "at least {}"), ("lt", "less than {}"), ("le", "at most {}"),
           ("min_length", "at least {} characters"))  # fmt: skip

HEADER = """\
# tmux-orc settings: copy to $XDG_CONFIG_HOME/tmux-orc/config.toml (~/.config/tmux-orc/config.toml)
# and uncomment what you change. Each key is also the environment variable TMUX_ORC_<KEY>, which wins
# over this file; `tmux-orc config` shows the effective values and where each came from, and
# `tmux-orc monitor reload` (SIGHUP) makes the daemon re-read them.
# Generated from the Settings model by scripts/gen_data.py: every setting, with its default.
"""


def field_help(name: str, field: FieldInfo) -> str:
    """One line on what the setting means ("" when nobody wrote one)."""
    return field.description or HELP.get(name, "")


def bounds(field: FieldInfo) -> str:
    """The field's numeric/length limits as words, e.g. ``more than 0, at most 3600``."""
    parts = []
    for meta in field.metadata:
        for attr, words in _BOUNDS:
            value = getattr(meta, attr, None)
            if value is not None:
                parts.append(words.format(value))
    return ", ".join(parts)


def default_of(field: FieldInfo) -> Any:
    """The field's default value (calling its factory), JSON-shaped; None when unset by default."""
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return None
    else:
        value = field.default
    return _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value


def toml_value(value: Any) -> str:
    """A value in TOML syntax (strings, numbers, booleans, lists and flat tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value))


def render_example() -> str:
    """The commented example config: every setting with its meaning, limits, variable and default."""
    blocks = [HEADER]
    for name, field in Settings.model_fields.items():
        lines = []
        meaning = field_help(name, field)
        limits = bounds(field)
        lines.append(f"# {name}: {meaning}" + (f" ({limits})" if limits else ""))
        lines.append(f"# environment: {ENV_PREFIX}{name.upper()}")
        default = default_of(field)
        if default is not None:
            lines.append(f"#{name} = {toml_value(default)}")
        elif name in EXAMPLES:
            lines.append(f"# not set by default; for example:\n#{name} = {toml_value(EXAMPLES[name])}")
        else:
            lines.append(f"# not set by default\n#{name} =")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)
