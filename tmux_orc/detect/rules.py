"""The data a profile is made of: rules (a regex, a screen region, a state) in the order they are tried.

A rule matches when its pattern is found in a line of its region (or in two neighbouring lines read as
one, for messages wrapped in narrow panes). Regions:

- ``tail``: the newest transcript entry just above the input box (or the bottom lines when none shows)
- ``footer``: the lines below the input box
- ``live``: tail + footer
- ``input``: the typed text of the input box, "" when empty (absent when no input box shows)
- ``dialog``: the bottom lines, only when no input box shows (dialogs replace the input box)
- ``menu``: the options of a numbered menu with a selection cursor, only when no input box shows
- ``title``: the pane title the program set
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal, get_args

from tmux_orc.detect.patterns import TextPattern, clip
from tmux_orc.detect.screen import Layout, ScreenShape
from tmux_orc.model import State

Region = Literal["tail", "footer", "live", "input", "dialog", "menu", "title"]
REGIONS: tuple[str, ...] = get_args(Region)


@dataclass(frozen=True, slots=True)
class Rule:
    """One reading of the screen: when ``pattern`` is found in ``region``, the agent is in ``state``."""

    name: str  # e.g. "claude2.spinner": generation/kind, then what it sees
    state: State
    pattern: TextPattern  # re.Pattern for built-ins, patterns.TimedPattern for a person's rules
    region: Region = "live"
    requires_input: bool | None = None  # True: only with an input box; False: only without one

    def lines(self, layout: Layout, title: str) -> tuple[str, ...]:
        """The lines of this rule's region in one layout (empty when the region is absent), each cut to
        :data:`~tmux_orc.detect.patterns.MAX_LINE` characters."""
        if self.requires_input is not None and (layout.input is not None) != self.requires_input:
            return ()
        if self.region == "input":
            return () if layout.input is None else (clip(layout.input),)
        if self.region == "title":
            return (clip(title.strip()),)
        region: tuple[str, ...] = getattr(layout, self.region)
        return tuple(clip(line) for line in region)

    def match(self, layout: Layout, title: str) -> tuple[str, ...] | None:
        """The lines that matched (evidence), or None."""
        lines = self.lines(layout, title)
        hits = tuple(line for line in lines if self.pattern.search(line))
        if not hits and self.region not in ("input", "title", "menu"):
            # A message the agent wrapped onto two lines (narrow panes) is matched as one.
            pairs = (f"{a} {b}" for a, b in itertools.pairwise(lines))
            hits = tuple(pair for pair in pairs if self.pattern.search(pair))[-1:]
        return hits or None


def rule(name: str, state: State, pattern: str, region: Region = "live", requires_input: bool | None = None) -> Rule:
    """A :class:`Rule` from a pattern string (compiled once, here)."""
    return Rule(name, state, re.compile(pattern), region, requires_input)


@dataclass(frozen=True, slots=True)
class Profile:
    """How to read one agent kind's screen: its layout and its rules, first match wins."""

    kind: str
    shape: ScreenShape
    rules: tuple[Rule, ...]
    description: str = ""

    def first_match(self, layout: Layout, title: str) -> tuple[Rule, tuple[str, ...]] | None:
        for candidate in self.rules:
            hits = candidate.match(layout, title)
            if hits is not None:
                return candidate, hits
        return None


@dataclass(frozen=True, slots=True)
class Profiles:
    """One profile per agent kind."""

    by_kind: Mapping[str, Profile] = field(default_factory=dict)

    def get(self, kind: str) -> Profile | None:
        return self.by_kind.get(kind)

    def __iter__(self) -> Iterator[Profile]:
        return iter(self.by_kind.values())

    def with_rules(self, kind: str, rules: tuple[Rule, ...], *, first: bool = True) -> Profiles:
        """A copy where ``rules`` are tried before (or after) the built-in rules of ``kind``."""
        base = self.by_kind.get(kind)
        if base is None:
            base = Profile(kind=kind, shape=ScreenShape(), rules=())
        merged = rules + base.rules if first else base.rules + rules
        return Profiles({**self.by_kind, kind: replace(base, rules=merged)})
