"""The agent definitions in use: the built-in ones (``tmux_orc/agents/*.toml``) and a person's own.

A person adds a CLI by dropping a definition into ``$XDG_CONFIG_HOME/tmux-orc/agents/`` (the setting
``agents_dir``); a file whose ``name`` is a built-in one replaces that definition. Every file is
validated when the daemon starts and on Reload: one error names the file, the key and the value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from tmux_orc.detect.definition import AgentDefinition, DefinitionError, read_definition
from tmux_orc.detect.program import ProgramPattern
from tmux_orc.detect.rules import Profiles
from tmux_orc.model import Kind

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "agents"
BUILTIN_ORDER = (Kind.CLAUDE, Kind.CODEX, Kind.GEMINI, Kind.AIDER, Kind.OPENCODE, Kind.QWEN, Kind.SHELL)
BUILTIN_SOURCE = "built-in"
MAX_USER_DEFINITIONS = 64


@dataclass(frozen=True, slots=True)
class Catalog:
    """Definitions by kind name, with what detection reads from them precomputed."""

    definitions: Mapping[str, AgentDefinition]
    profiles: Profiles
    patterns: tuple[ProgramPattern, ...]

    def get(self, kind: str) -> AgentDefinition | None:
        """The definition of ``kind``, None when there is none."""
        return self.definitions.get(kind)

    @property
    def agent_kinds(self) -> tuple[str, ...]:
        """The kinds that are agent programs (every definition with a ``[process]``), in matching order."""
        return tuple(p.kind for p in self.patterns)

    def resume_command(self, kind: str) -> str:
        """What resumes a crashed agent of ``kind`` ("" when its definition has none)."""
        definition = self.definitions.get(kind)
        return definition.resume if definition is not None else ""

    def with_profiles(self, profiles: Profiles) -> Catalog:
        """The same definitions, read with ``profiles`` (a user's extra rules merged in)."""
        return replace(self, profiles=profiles)


def catalog_of(definitions: Iterable[AgentDefinition]) -> Catalog:
    """A catalog of ``definitions``, in order (earlier program patterns are matched first)."""
    by_name: dict[str, AgentDefinition] = {}
    for definition in definitions:
        by_name[definition.name] = definition
    patterns = tuple(d.program for d in by_name.values() if d.program is not None)
    profiles = Profiles({name: d.profile for name, d in by_name.items()})
    return Catalog(by_name, profiles, patterns)


def builtin_definitions() -> list[AgentDefinition]:
    """The definitions tmux-orc ships, in matching order (a broken one is a bug: it raises)."""
    files = {path.stem: path for path in BUILTIN_DIR.glob("*.toml")}
    ordered = [name for name in BUILTIN_ORDER if name in files] + sorted(set(files) - set(BUILTIN_ORDER))
    return [read_definition(files[name], f"{BUILTIN_SOURCE} {files[name].name}", timed=False) for name in ordered]


def user_definitions(folder: Path) -> list[AgentDefinition]:
    """The definitions in ``folder`` (``*.toml``, sorted by file name); none when it does not exist."""
    if not folder.exists():
        return []
    if not folder.is_dir():
        raise DefinitionError(f"{folder}: agents_dir is not a directory")
    try:
        files = sorted(p for p in folder.iterdir() if p.suffix == ".toml" and not p.name.startswith("."))
    except OSError as exc:
        raise DefinitionError(f"{folder}: cannot list agent definitions: {exc.strerror or exc}") from None
    if len(files) > MAX_USER_DEFINITIONS:
        raise DefinitionError(f"{folder}: {len(files)} definitions, more than {MAX_USER_DEFINITIONS}")
    return [read_definition(path) for path in files]


def load_catalog(agents_dir: Path | None) -> Catalog:
    """Built-in definitions, then the user's from ``agents_dir`` (replacing a built-in of the same name)."""
    if agents_dir is None:
        return BUILTIN_CATALOG
    return catalog_of([*builtin_definitions(), *user_definitions(agents_dir)])


BUILTIN_CATALOG = catalog_of(builtin_definitions())
