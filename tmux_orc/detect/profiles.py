"""The profiles in use: the built-in tables, plus a person's own rules from a TOML file.

A rules file looks like::

    [[rules]]
    kind = "claude"             # claude, codex, gemini, aider
    name = "mine.press-enter"   # shown as the verdict's rule
    state = "waiting_input"     # any state except crashed, stuck, starting
    pattern = "^Press Enter to continue"
    region = "dialog"           # tail, footer, live (default), input, dialog, menu, title
    requires_input = false      # optional: only with (true) / without (false) an input box
    position = "first"          # optional: tried before (default) or after ("last") the built-ins

    [placeholders]
    codex = ["Describe a task"]  # prompt texts that are placeholders, not typed text

User rules never decide ``crashed``: only process facts do.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from tmux_orc.detect.builtin import BUILTIN
from tmux_orc.detect.patterns import PatternError, TimedPattern
from tmux_orc.detect.rules import REGIONS, Profile, Profiles, Region, Rule
from tmux_orc.model import Kind, State

DEFAULT_PROFILES = Profiles({profile.kind: profile for profile in BUILTIN})

_USER_STATES = frozenset(State) - {State.CRASHED, State.STUCK, State.STARTING}
_RULE_KEYS = frozenset({"kind", "name", "state", "pattern", "region", "requires_input", "position"})
_AGENT_KINDS = (Kind.CLAUDE, Kind.CODEX, Kind.GEMINI, Kind.AIDER)


def _choice(where: str, key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{where}: {key} = {value!r} is not one of {', '.join(allowed)}")
    return value


def _regex(where: str, value: Any, name: str = "") -> TimedPattern:
    """A person's pattern: searched with a time limit (see :mod:`tmux_orc.detect.patterns`)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}: pattern must be a non-empty string")
    try:
        return TimedPattern(value, name or where)
    except PatternError as exc:
        raise ValueError(f"{where}: pattern {value!r} is not a valid regular expression: {exc}") from None


def _user_rule(index: int, raw: Any) -> tuple[Kind, Rule, bool]:
    """(kind, rule, tried first) from one ``[[rules]]`` table."""
    where = f"rules[{index}]"
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: must be a table")
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}")
    for key in ("kind", "name", "state", "pattern"):
        if key not in raw:
            raise ValueError(f"{where}: missing key {key!r}")
    kind = Kind(_choice(where, "kind", raw["kind"], tuple(_AGENT_KINDS)))
    state = State(_choice(where, "state", raw["state"], tuple(sorted(_USER_STATES))))
    region: Region = _choice(where, "region", raw.get("region", "live"), REGIONS)  # type: ignore[assignment]
    name = raw["name"]
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where}: name must be a non-empty string")
    requires_input = raw.get("requires_input")
    if requires_input is not None and not isinstance(requires_input, bool):
        raise ValueError(f"{where}: requires_input must be true or false")
    position = _choice(where, "position", raw.get("position", "first"), ("first", "last"))
    pattern = _regex(where, raw["pattern"], name.strip())
    return kind, Rule(name.strip(), state, pattern, region, requires_input), position == "first"


def _with_placeholders(profiles: Profiles, raw: Any) -> Profiles:
    if not isinstance(raw, dict):
        raise ValueError("placeholders: must be a table of kind = [patterns]")
    for kind_name, patterns in raw.items():
        kind = Kind(_choice("placeholders", "kind", kind_name, tuple(_AGENT_KINDS)))
        if not isinstance(patterns, list):
            raise ValueError(f"placeholders.{kind_name}: must be a list of patterns")
        compiled = tuple(_regex(f"placeholders.{kind_name}", p) for p in patterns)
        base = profiles.get(kind)
        if base is None:  # pragma: no cover - every agent kind has a built-in profile
            continue
        shape = replace(base.shape, placeholders=base.shape.placeholders + compiled)
        profiles = Profiles({**profiles.by_kind, kind: replace(base, shape=shape)})
    return profiles


def merge_rules(data: dict[str, Any], base: Profiles = DEFAULT_PROFILES) -> Profiles:
    """``base`` with the rules and placeholders of a parsed rules document."""
    unknown = sorted(set(data) - {"rules", "placeholders"})
    if unknown:
        raise ValueError(f"unknown section(s) {', '.join(unknown)}; expected [[rules]] and [placeholders]")
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        raise ValueError("rules: must be an array of tables ([[rules]])")
    profiles = base
    parsed = [_user_rule(index, raw) for index, raw in enumerate(raw_rules)]
    for kind in _AGENT_KINDS:
        first = tuple(r for k, r, at_first in parsed if k == kind and at_first)
        last = tuple(r for k, r, at_first in parsed if k == kind and not at_first)
        if first:
            profiles = profiles.with_rules(kind, first, first=True)
        if last:
            profiles = profiles.with_rules(kind, last, first=False)
    if "placeholders" in data:
        profiles = _with_placeholders(profiles, data["placeholders"])
    return profiles


def load_profiles(path: Path | None) -> Profiles:
    """The built-in profiles, with the user's rules from ``path`` merged in (None: built-ins only).

    Raises ValueError naming the file and what is wrong with it.
    """
    if path is None:
        return DEFAULT_PROFILES
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read rules file {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"rules file {path} is not valid TOML: {exc}") from None
    except RecursionError:
        raise ValueError(f"rules file {path} is not valid TOML: nested too deeply") from None
    try:
        return merge_rules(data)
    except ValueError as exc:
        raise ValueError(f"rules file {path}: {exc}") from None


def profile_for(kind: Kind, profiles: Profiles | None = None) -> Profile | None:
    """The profile for ``kind`` (from ``profiles``, else the built-ins)."""
    return (profiles or DEFAULT_PROFILES).get(kind)
