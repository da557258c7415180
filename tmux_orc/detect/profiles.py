"""The profiles in use: the built-in tables, plus a person's own rules from a TOML file.

A rules file looks like::

    [[rules]]
    kind = "claude"             # any agent kind defined (claude, codex, gemini, aider, ... or your own)
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

from dataclasses import replace
from pathlib import Path
from typing import Any

from tmux_orc.detect.catalog import BUILTIN_CATALOG, Catalog, load_catalog
from tmux_orc.detect.definition import read_toml
from tmux_orc.detect.patterns import PatternError, TimedPattern
from tmux_orc.detect.rules import REGIONS, Profile, Profiles, Region, Rule
from tmux_orc.model import Kind, State

DEFAULT_PROFILES = BUILTIN_CATALOG.profiles

_USER_STATES = frozenset(State) - {State.CRASHED, State.STUCK, State.STARTING}
_RULE_KEYS = frozenset({"kind", "name", "state", "pattern", "region", "requires_input", "position"})


def _agent_kinds(profiles: Profiles) -> tuple[str, ...]:
    return tuple(sorted(kind for kind in profiles.by_kind if kind != Kind.SHELL))


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


def _user_rule(index: int, raw: Any, kinds: tuple[str, ...]) -> tuple[str, Rule, bool]:
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
    kind = _choice(where, "kind", raw["kind"], kinds)
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
        kind = _choice("placeholders", "kind", kind_name, _agent_kinds(profiles))
        if not isinstance(patterns, list):
            raise ValueError(f"placeholders.{kind_name}: must be a list of patterns")
        compiled = tuple(_regex(f"placeholders.{kind_name}", p) for p in patterns)
        base = profiles.get(kind)
        if base is None:  # pragma: no cover - every agent kind has a profile
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
    kinds = _agent_kinds(base)
    parsed = [_user_rule(index, raw, kinds) for index, raw in enumerate(raw_rules)]
    for kind in kinds:
        first = tuple(r for k, r, at_first in parsed if k == kind and at_first)
        last = tuple(r for k, r, at_first in parsed if k == kind and not at_first)
        if first:
            profiles = profiles.with_rules(kind, first, first=True)
        if last:
            profiles = profiles.with_rules(kind, last, first=False)
    if "placeholders" in data:
        profiles = _with_placeholders(profiles, data["placeholders"])
    return profiles


def load_profiles(path: Path | None, base: Profiles = DEFAULT_PROFILES) -> Profiles:
    """``base`` (the built-in profiles by default), with the user's rules from ``path`` merged in
    (None: ``base`` as it is).

    Raises ValueError naming the file and what is wrong with it.
    """
    if path is None:
        return base
    data = read_toml(path, f"rules file {path}")
    try:
        return merge_rules(data, base)
    except ValueError as exc:
        raise ValueError(f"rules file {path}: {exc}") from None


def load_agents(agents_dir: Path | None, rules_file: Path | None) -> Catalog:
    """The agent definitions in use (built-ins, then ``agents_dir``), read with the rules of ``rules_file``.

    Raises ValueError naming the file, key and value that cannot be used.
    """
    catalog = load_catalog(agents_dir)
    if rules_file is None:
        return catalog
    return catalog.with_profiles(load_profiles(rules_file, catalog.profiles))


def profile_for(kind: str, profiles: Profiles | None = None) -> Profile | None:
    """The profile for ``kind`` (from ``profiles``, else the built-ins)."""
    return (profiles or DEFAULT_PROFILES).get(kind)
