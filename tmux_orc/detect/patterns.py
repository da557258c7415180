"""Patterns searched in pane text, and the time limit that keeps a person's own pattern from freezing the loop.

The built-in patterns are written to run in time linear in the line (no nested or overlapping repeats;
possessive or atomic where a repeat is followed by what it could also match), and every line is cut to
:data:`MAX_LINE` characters before any pattern sees it. A person's own rules cannot be trusted that
way: ``^(a+)+$`` against a line of 27 ``a`` and a ``!`` takes seconds with :mod:`re`. Their patterns are
compiled with the :mod:`regex` module and searched with its ``timeout=``; a search that runs out of
time counts as no match, is logged with the rule's name, and after :data:`MAX_TIMEOUTS` such searches the
rule is disabled until the rules are loaded again (start or Reload).
"""

from __future__ import annotations

import logging
import re
from typing import Any, Protocol

import regex

log = logging.getLogger(__name__)

MAX_LINE = 1000  # characters of a line patterns see (as screen.MAX_WIDTH, which cuts the layout's lines)
SEARCH_TIMEOUT = 0.05  # seconds one search of a user pattern may take
MAX_TIMEOUTS = 3  # searches out of time before a user rule is disabled


class TextPattern(Protocol):
    """What detection needs of a compiled pattern (``re.Pattern`` and :class:`TimedPattern` both fit)."""

    @property
    def pattern(self) -> str: ...

    def search(self, string: str) -> Any: ...

    def fullmatch(self, string: str) -> Any: ...


class PatternError(ValueError):
    """A user pattern that does not compile; the message says why."""


class TimedPattern:
    """A person's regular expression: each search limited to ``timeout`` s, disabled after repeated timeouts."""

    __slots__ = ("_compiled", "disabled", "max_timeouts", "name", "timeout", "timeouts")

    def __init__(self, source: str, name: str, timeout: float = SEARCH_TIMEOUT,
                 max_timeouts: int = MAX_TIMEOUTS) -> None:
        try:
            self._compiled = regex.compile(source, regex.VERSION0)
        except (regex.error, re.error, ValueError, OverflowError) as exc:
            raise PatternError(str(exc)) from None
        except RecursionError:
            raise PatternError("nested too deeply") from None
        self.name = name
        self.timeout = timeout
        self.max_timeouts = max_timeouts
        self.timeouts = 0
        self.disabled = False

    @property
    def pattern(self) -> str:
        """The source text, as ``re.Pattern.pattern``."""
        return str(self._compiled.pattern)

    def search(self, string: str) -> Any:
        """A match anywhere in ``string``, or None (also when out of time or disabled)."""
        return self._run(self._compiled.search, string)

    def fullmatch(self, string: str) -> Any:
        """A match of the whole of ``string``, or None (also when out of time or disabled)."""
        return self._run(self._compiled.fullmatch, string)

    def _run(self, method: Any, string: str) -> Any:
        if self.disabled:
            return None
        try:
            return method(string, timeout=self.timeout)
        except TimeoutError:
            self._timed_out(len(string))
            return None

    def _timed_out(self, length: int) -> None:
        self.timeouts += 1
        if self.timeouts >= self.max_timeouts:
            self.disabled = True
            log.error("rule %r disabled: its pattern %r ran out of time (%.0f ms) on %d searches; fix the "
                      "pattern in the rules file and reload", self.name, self.pattern, self.timeout * 1000,
                      self.timeouts)
        else:
            log.warning("rule %r: pattern %r ran out of time (%.0f ms) on a line of %d characters; taken as "
                        "no match (%d of %d before the rule is disabled)", self.name, self.pattern,
                        self.timeout * 1000, length, self.timeouts, self.max_timeouts)


def clip(line: str) -> str:
    """``line`` cut to :data:`MAX_LINE` characters."""
    return line if len(line) <= MAX_LINE else line[:MAX_LINE]
