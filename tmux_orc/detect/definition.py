"""One agent definition: everything tmux-orc knows about one agent CLI, read from one TOML file.

A definition says how the program is recognised under a pane (``[process]``), how its screen is laid
out (``[screen]``, its prompts and placeholders), which state each screen means (``[[rules]]``, tried
top to bottom), how a message is submitted to it (``[submit]``), what brings a crashed PM of its kind
back (``[resume]``) and which hook or notify settings it offers (``[hooks]``). Detection, discovery,
PM delivery, recovery and the hooks installer all read the same definition. The built-in ones live in
``tmux_orc/agents/``; see any of them for the format.

Parsing is strict: an unknown key, a wrong type or an invalid pattern raises :class:`DefinitionError`
naming the file, the key and the value.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tmux_orc.detect.patterns import PatternError, TextPattern, TimedPattern
from tmux_orc.detect.program import ProgramPattern
from tmux_orc.detect.rules import REGIONS, Profile, Region, Rule
from tmux_orc.detect.screen import PromptShape, ScreenShape
from tmux_orc.model import Kind, State

NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
SUBMIT_METHODS = ("paste-enter",)
HOOK_KINDS = ("claude-code-settings", "codex-notify", "gemini-settings", "qwen-settings")
RULE_STATES = tuple(sorted(str(s) for s in set(State) - {State.CRASHED, State.STUCK, State.STARTING}))
_SECTIONS = {
    "": {"name", "description", "process", "screen", "rules", "submit", "resume", "hooks"},
    "process": {"names", "prefixes", "path_parts", "modules"},
    "screen": {"prompts", "placeholders", "placeholder_texts", "entry", "cursors", "plain_menus"},
    "prompt": {"name", "line", "boxed", "max_below", "edge", "status"},
    "rule": {"name", "state", "region", "pattern", "requires_input"},
    "submit": {"method", "enter_delay"},
    "resume": {"command"},
    "hooks": {"offers"},
}


class DefinitionError(ValueError):
    """An agent definition that cannot be used; the message names the file, key and value."""


@dataclass(frozen=True, slots=True)
class Submit:
    """How a message is submitted: ``paste-enter`` is one bracketed paste, ``enter_delay`` s, then Enter."""

    method: str = "paste-enter"
    enter_delay: float = 0.3


@dataclass(frozen=True, slots=True)
class AgentDefinition:
    """Everything known about one agent CLI (or the shell), and where it came from."""

    name: str
    description: str
    source: str  # "built-in" or the file it was read from
    program: ProgramPattern | None  # None: no program of its own (the shell definition)
    profile: Profile
    submit: Submit = Submit()
    resume: str = ""  # the command that resumes its conversation after a crash ("" when it has none)
    hooks: tuple[str, ...] = ()


class _Reader:
    """Typed access to one file's tables, with errors that say where.

    ``timed``: the file is a person's own, so its rule and placeholder patterns are searched with a
    time limit (:class:`~tmux_orc.detect.patterns.TimedPattern`); the built-in files use ``re``.
    """

    def __init__(self, where: str, timed: bool = False) -> None:
        self.where = where
        self.timed = timed

    def fail(self, key: str, value: Any, problem: str) -> DefinitionError:
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        return DefinitionError(f"{self.where}: {key} = {shown}: {problem}")

    def table(self, raw: Any, key: str, section: str) -> Mapping[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise self.fail(key, raw, "must be a table")
        unknown = sorted(set(raw) - _SECTIONS[section])
        if unknown:
            prefix = f"{key}." if key else ""
            allowed = ", ".join(sorted(_SECTIONS[section]))
            raise self.fail(prefix + unknown[0], raw[unknown[0]], f"unknown key (allowed: {allowed})")
        return raw

    def text(self, raw: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
        value = raw.get(key, default)
        if not isinstance(value, str) or (default is None and not value.strip()):
            need = "must be a non-empty string" if default is None else "must be a string"
            raise self.fail(f"{where}{key}", value, need)
        return value

    def strings(self, raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(f"{where}{key}", value, "must be a list of non-empty strings")
        return tuple(value)

    def flag(self, raw: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
        value = raw.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"{where}{key}", value, "must be true or false")
        return value

    def number(self, raw: Mapping[str, Any], key: str, where: str, default: float, low: float, high: float) -> float:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise self.fail(f"{where}{key}", value, f"must be a number from {low:g} to {high:g}")
        return float(value)

    def choice(self, raw: Mapping[str, Any], key: str, where: str, allowed: tuple[str, ...],
               default: str | None = None) -> str:
        value = raw.get(key, default)
        if value not in allowed:
            raise self.fail(f"{where}{key}", value, f"must be one of {', '.join(allowed)}")
        return str(value)

    def searched(self, value: Any, key: str, name: str) -> TextPattern:
        """A rule's or a placeholder's pattern: timed for a person's file."""
        if not self.timed:
            return self.regex(value, key)
        if not isinstance(value, str) or not value:
            raise self.fail(key, value, "must be a non-empty regular expression")
        try:
            return TimedPattern(value, name)
        except PatternError as exc:
            raise self.fail(key, value, f"not a valid regular expression: {exc}") from None

    def regex(self, value: Any, key: str) -> re.Pattern[str]:
        if not isinstance(value, str) or not value:
            raise self.fail(key, value, "must be a non-empty regular expression")
        try:
            return re.compile(value)
        except re.error as exc:
            raise self.fail(key, value, f"not a valid regular expression: {exc}") from None


def _program(r: _Reader, raw: Any, name: str) -> ProgramPattern | None:
    if raw is None:
        return None
    table = r.table(raw, "process", "process")
    pattern = ProgramPattern(
        kind=name,
        names=frozenset(n.lower() for n in r.strings(table, "names", "process.")),
        prefixes=tuple(p.lower() for p in r.strings(table, "prefixes", "process.")),
        path_parts=r.strings(table, "path_parts", "process."),
        modules=frozenset(r.strings(table, "modules", "process.")),
    )
    if not (pattern.names or pattern.prefixes or pattern.path_parts or pattern.modules):
        raise r.fail("process", raw, "names, prefixes, path_parts or modules must say how the program is recognised")
    return pattern


def _prompt(r: _Reader, raw: Any, index: int) -> PromptShape:
    where = f"screen.prompts[{index}]."
    table = r.table(raw, f"screen.prompts[{index}]", "prompt")
    line = r.regex(r.text(table, "line", where), f"{where}line")
    if "text" not in line.groupindex:
        raise r.fail(f"{where}line", line.pattern, "must capture the typed text as (?P<text>...)")
    return PromptShape(
        name=r.text(table, "name", where),
        line=line,
        boxed=r.flag(table, "boxed", where, True),
        max_below=int(r.number(table, "max_below", where, 6, 0, 40)),
        edge=None if "edge" not in table else r.regex(table["edge"], f"{where}edge"),
        status=None if "status" not in table else r.regex(table["status"], f"{where}status"),
    )


def _screen(r: _Reader, raw: Any) -> ScreenShape:
    table = r.table(raw, "screen", "screen")
    prompts = table.get("prompts", [])
    if not isinstance(prompts, list):
        raise r.fail("screen.prompts", prompts, "must be an array of tables ([[screen.prompts]])")
    patterns = r.strings(table, "placeholders", "screen.")
    placeholders: list[TextPattern] = [
        r.searched(p, f"screen.placeholders[{i}]", f"placeholder {i}") for i, p in enumerate(patterns)]
    placeholders += [re.compile(re.escape(t)) for t in r.strings(table, "placeholder_texts", "screen.")]
    entry = table.get("entry")
    return ScreenShape(
        prompts=tuple(_prompt(r, p, i) for i, p in enumerate(prompts)),
        placeholders=tuple(placeholders),
        entry=None if entry is None else r.regex(entry, "screen.entry"),
        cursors=r.text(table, "cursors", "screen.", default="❯›>"),
        plain_menus=r.flag(table, "plain_menus", "screen.", False),
    )


def parse_rule(r: _Reader, raw: Any, index: int, states: tuple[str, ...] = RULE_STATES) -> Rule:
    """One ``[[rules]]`` table."""
    where = f"rules[{index}]."
    table = r.table(raw, f"rules[{index}]", "rule")
    requires = table.get("requires_input")
    if requires is not None and not isinstance(requires, bool):
        raise r.fail(f"{where}requires_input", requires, "must be true or false")
    region: Region = r.choice(table, "region", where, REGIONS, "live")  # type: ignore[assignment]
    name = r.text(table, "name", where).strip()
    return Rule(
        name=name,
        state=State(r.choice(table, "state", where, states)),
        pattern=r.searched(table.get("pattern"), f"{where}pattern", name),
        region=region,
        requires_input=requires,
    )


def parse_definition(data: Mapping[str, Any], source: str, *, timed: bool = True) -> AgentDefinition:
    """An :class:`AgentDefinition` from a parsed TOML document; ``source`` names it in errors.
    ``timed``: search its patterns with a time limit (a person's file; the built-in ones are not)."""
    r = _Reader(source, timed)
    top = r.table(dict(data), "", "")
    name = r.text(top, "name", "")
    if not NAME.match(name) or name == Kind.UNKNOWN:
        raise r.fail("name", name, "must be a lower-case name of letters, digits, '-' or '_' (not 'unknown')")
    raw_rules = top.get("rules", [])
    if not isinstance(raw_rules, list):
        raise r.fail("rules", raw_rules, "must be an array of tables ([[rules]])")
    states = RULE_STATES + ((str(State.CRASHED),) if name == Kind.SHELL else ())  # shell rules word crashes
    program = _program(r, top.get("process"), name)
    if program is None and name != Kind.SHELL:
        raise r.fail("process", None, "missing: say how the program is recognised ([process] names = [...])")
    submit = r.table(top.get("submit"), "submit", "submit")
    hooks = r.table(top.get("hooks"), "hooks", "hooks")
    offers = r.strings(hooks, "offers", "hooks.")
    for offer in offers:
        if offer not in HOOK_KINDS:
            raise r.fail("hooks.offers", offer, f"unknown hook kind (known: {', '.join(HOOK_KINDS)})")
    return AgentDefinition(
        name=name,
        description=r.text(top, "description", "", default=""),
        source=source,
        program=program,
        profile=Profile(kind=name, shape=_screen(r, top.get("screen")),
                        rules=tuple(parse_rule(r, raw, i, states) for i, raw in enumerate(raw_rules)),
                        description=r.text(top, "description", "", default="")),
        submit=Submit(method=r.choice(submit, "method", "submit.", SUBMIT_METHODS, "paste-enter"),
                      enter_delay=r.number(submit, "enter_delay", "submit.", 0.3, 0.0, 5.0)),
        resume=r.text(r.table(top.get("resume"), "resume", "resume"), "command", "resume.", default=""),
        hooks=offers,
    )


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """The TOML document at ``path``; :class:`DefinitionError` saying ``what`` could not be read."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DefinitionError(f"cannot read {what}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DefinitionError(f"{what} is not valid TOML: {exc}") from None


def read_definition(path: Path, source: str | None = None, *, timed: bool = True) -> AgentDefinition:
    """Read and parse one definition file (see :func:`parse_definition` for ``timed``)."""
    where = source or str(path)
    return parse_definition(read_toml(path, where), where, timed=timed)


