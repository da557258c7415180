"""How an agent program shows up in a process list: the ``[process]`` part of an agent definition."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProgramPattern:
    """How one agent program shows up in a process list."""

    kind: str
    names: frozenset[str]  # exact basenames (without .js/.mjs/.py) of comm, argv[0] or a script
    prefixes: tuple[str, ...] = ()  # basename prefixes (demo stand-ins such as ``claude-sim``)
    path_parts: tuple[str, ...] = ()  # substrings of a script path (npm package folders)
    modules: frozenset[str] = frozenset()  # ``python -m MODULE``
