"""Pure detection: which agent runs in a pane, and in which state (no I/O, no tmux, no D-Bus).

- :func:`find_agent` reads the process tree under a pane (:mod:`.process`)
- :func:`classify` turns screen + process facts + history into an Observation (:mod:`.engine`)
- :class:`Catalog` holds the agent definitions in use (:mod:`.definition`, :mod:`.catalog`, files in
  ``tmux_orc/agents/``); :class:`Profiles` are their screen rules (:mod:`.profiles` adds a user's own)
- :class:`Debouncer` confirms a state before it is published (:mod:`.debounce`)
- :func:`role_from_window` names an agent's role from its window (:mod:`.roles`)
"""

from tmux_orc.detect.debounce import Debouncer
from tmux_orc.detect.engine import DetectContext, classify, event_state, hook_confirms, hook_state
from tmux_orc.detect.explain import describe_profiles, explain
from tmux_orc.detect.process import find_agent, program_kind
from tmux_orc.detect.profiles import DEFAULT_PROFILES, load_profiles
from tmux_orc.detect.ratelimit import ResetTime, parse_reset
from tmux_orc.detect.roles import role_from_window
from tmux_orc.detect.rules import Profile, Profiles, Rule

__all__ = [
    "DEFAULT_PROFILES",
    "Debouncer",
    "DetectContext",
    "Profile",
    "Profiles",
    "ResetTime",
    "Rule",
    "classify",
    "describe_profiles",
    "event_state",
    "explain",
    "find_agent",
    "hook_confirms",
    "hook_state",
    "load_profiles",
    "parse_reset",
    "program_kind",
    "role_from_window",
]
