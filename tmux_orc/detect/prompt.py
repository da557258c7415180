"""The agent's input prompt, read the one way detection reads it.

PM delivery asks two questions of a screen: is the prompt empty (may a message be pasted?) and did a
pasted message leave it (was it submitted?). Both are answered from :func:`~.screen.read_layout` with
the agent kind's own screen shape, the same reading the detector's rules see: whatever the detector
calls an empty prompt (placeholders included), delivery treats as empty, and nothing else.
"""

from __future__ import annotations

from tmux_orc.detect.profiles import DEFAULT_PROFILES
from tmux_orc.detect.rules import Profiles
from tmux_orc.detect.screen import read_layout, strip_escapes
from tmux_orc.model import Kind

PASTED_STAND_IN = "[Pasted text"  # what Claude Code shows in its prompt instead of a long paste


def prompt_text(screen: str, kind: str, profiles: Profiles | None = None) -> str | None:
    """The text typed in the agent's prompt ("" when empty or showing a placeholder), None when no
    prompt is in view (a dialog, a shell, a program whose screen has no prompt shape).

    >>> prompt_text("● Done.\\n" + "─" * 20 + "\\n❯ say hello\\n" + "─" * 20, Kind.CLAUDE)
    'say hello'
    >>> prompt_text("user@host:~$ ", Kind.SHELL) is None
    True
    """
    profile = (profiles or DEFAULT_PROFILES).get(kind)
    if profile is None or not profile.shape.prompts:
        return None  # a shell or an unknown program: nothing is ever treated as its prompt
    return read_layout(screen, profile.shape).input


def prompt_is_empty(screen: str, kind: str, profiles: Profiles | None = None) -> bool:
    """True only when a prompt is in view and holds nothing but the agent's own placeholder."""
    return prompt_text(screen, kind, profiles) == ""


def _flat(text: str) -> str:
    return " ".join(strip_escapes(text).split())


def message_submitted(screen_before: str, screen_after: str, text: str, kind: str = Kind.CLAUDE,
                      profiles: Profiles | None = None) -> bool:
    """Did ``text`` leave the prompt? False while it (or the agent's "[Pasted text" stand-in) sits there."""
    typed = prompt_text(screen_after, kind, profiles)
    if typed is None:  # no prompt in view: the agent went on to something else, if the screen moved
        return screen_after != screen_before
    if not typed:
        return True
    flat = _flat(typed)
    head = _flat(text)[:16]
    return not (flat.startswith(PASTED_STAND_IN) or (head and head in flat))
