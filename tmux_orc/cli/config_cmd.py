"""``tmux-orc config [--json]``: the effective settings and where each came from.

Sources, in the order that wins: the environment (``TMUX_ORC_<NAME>``), the config file, the default.
These are the settings as this shell sees them; the service reads the same file but gets its
environment from the user manager (``systemctl --user show-environment``).

Secrets are never printed: a setting whose name contains url, token, password or secret shows only
``scheme://host`` of each URL in it (and ``scheme://…`` when the host part itself looks like a token).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from tmux_orc.cli.render import to_json
from tmux_orc.config import ENV_PREFIX, ConfigError, Settings, config_file_path, load_settings

SECRET_WORDS = ("url", "token", "password", "secret")
REDACTED = "<redacted>"
_HOSTNAME = re.compile(r"(?=.{1,253}$)(localhost|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+|\[[0-9A-Fa-f:.]+\])")


@dataclass(frozen=True)
class Effective:
    """One setting's effective value and where it came from."""

    name: str
    value: Any
    source: str  # "environment", "config file" or "default"
    origin: str  # the variable name, the file path, or ""


def is_secret(name: str) -> bool:
    """Whether a setting's name says it may hold a secret."""
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def redact_url(text: str) -> str:
    """``scheme://host`` of a URL, dropping user, password, port, path and query; :data:`REDACTED` otherwise."""
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
    except ValueError:
        return REDACTED
    if not parts.scheme:
        return REDACTED
    raw_host = parts.netloc.rpartition("@")[2].split(":")[0] if parts.netloc else ""
    if host and _HOSTNAME.fullmatch(raw_host or host):
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://…"  # the host position holds a token in many channel URLs (tgram://TOKEN)


def redact(name: str, value: Any) -> Any:
    """``value`` safe to print for a setting called ``name`` (paths of files are not secrets)."""
    if not is_secret(name) or value is None or isinstance(value, bool | int | float):
        return value
    if name.lower().endswith(("_file", "_path", "_dir")):
        return value
    if isinstance(value, list | tuple):
        return [redact(name, item) for item in value]
    if isinstance(value, Mapping):
        return {key: redact(name, item) for key, item in value.items()}
    return redact_url(str(value))


def env_source(name: str, env: Mapping[str, str]) -> str:
    """The environment variable that sets ``name`` ("" if none); names match case-insensitively."""
    wanted = (ENV_PREFIX + name).upper()
    return next((key for key in env if key.upper() == wanted), "")


def file_keys(path: Path) -> set[str]:
    """The top-level keys of the config file (empty when it is absent)."""
    try:
        with path.open("rb") as handle:
            return set(tomllib.load(handle))
    except FileNotFoundError:
        return set()


def effective(settings: Settings, env: Mapping[str, str], keys: set[str], path: Path) -> list[Effective]:
    """Every setting of ``settings`` with its source, in the model's order, secrets redacted."""
    dumped = settings.model_dump(mode="json")
    rows = []
    for name in Settings.model_fields:
        variable = env_source(name, env)
        if variable:
            source, origin = "environment", variable
        elif name in keys:
            source, origin = "config file", str(path)
        else:
            source, origin = "default", ""
        rows.append(Effective(name, redact(name, dumped.get(name)), source, origin))
    return rows


def render_text(rows: list[Effective], path: Path, exists: bool) -> str:
    """The settings table: name, value, source."""
    lines = [f"config file: {path}" + ("" if exists else " (not found: defaults and environment only)")]
    width = max(len(row.name) for row in rows)
    values = [("-" if row.value is None else to_json(row.value) if not isinstance(row.value, str) else row.value)
              for row in rows]  # fmt: skip
    value_width = min(40, max(len(v) for v in values))
    for row, value in zip(rows, values, strict=True):
        where = f"{row.source} {row.origin}" if row.source == "environment" else row.source
        lines.append(f"{row.name.ljust(width)}  {value.ljust(value_width)}  {where}")
    lines.append("(the service reads the same file; its environment is `systemctl --user show-environment`)")
    return "\n".join(lines)


def run_config(*, json_output: bool, out: TextIO, err: TextIO, env: Mapping[str, str] | None = None) -> int:
    """Print the effective settings; 1 when they do not load (the message names the bad one)."""
    env = os.environ if env is None else env
    path = config_file_path(env)
    try:
        keys = file_keys(path)
        settings = load_settings()
    except (ConfigError, OSError, tomllib.TOMLDecodeError) as exc:
        print(f"error: {exc}", file=err)
        return 1
    rows = effective(settings, env, keys, path)
    if json_output:
        print(to_json({
            "config_file": str(path),
            "config_file_exists": path.exists(),
            "settings": {row.name: {"value": row.value, "source": row.source, "origin": row.origin} for row in rows},
        }), file=out)  # fmt: skip
    else:
        print(render_text(rows, path, path.exists()), file=out)
    return 0
