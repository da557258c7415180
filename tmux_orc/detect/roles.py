"""An agent's role from its tmux window name (``Claude-pm``, ``Claude-backend-dev``, ...)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from tmux_orc.model import Role

# Whole names first (after the prefix), then single words, in this order.
_WHOLE: dict[str, Role] = {
    "project-manager": Role.PM,
    "projectmanager": Role.PM,
    "product-manager": Role.PM,
}
_WORDS: tuple[tuple[Role, frozenset[str]], ...] = (
    (Role.PM, frozenset({"pm", "manager"})),
    (Role.ORCHESTRATOR, frozenset({"orchestrator", "orc", "orch"})),
    (Role.DEVOPS, frozenset({"devops", "ops", "sre", "infra"})),
    (Role.QA, frozenset({"qa", "tester", "test", "testing"})),
    (Role.REVIEWER, frozenset({"reviewer", "review"})),
    (Role.RESEARCHER, frozenset({"researcher", "research"})),
    (
        Role.DEVELOPER,
        frozenset({"developer", "dev", "frontend", "backend", "fullstack", "engineer", "coder"}),
    ),
)
_SPLIT = re.compile(r"[-_.\s:/]+")


def role_from_window(
    window_name: str, prefix: str = "Claude-", overrides: Mapping[str, Role] | None = None
) -> Role | None:
    """The role a window name gives, or None when it is not named as an agent window.

    ``overrides`` maps an exact window name to a role and wins over the name. The prefix is matched
    case-insensitively; after it, ``pm``/``project-manager`` is the PM, ``orc``/``orchestrator`` the
    orchestrator, ``dev``/``backend-dev``/``frontend`` a developer, and so on; any other name is ``agent``.
    """
    if overrides and window_name in overrides:
        return overrides[window_name]
    if not window_name.lower().startswith(prefix.lower()):
        return None
    rest = window_name[len(prefix) :].strip().lower()
    if rest in _WHOLE:
        return _WHOLE[rest]
    words = {word.rstrip("0123456789") for word in _SPLIT.split(rest)} - {""}
    for role, names in _WORDS:
        if words & names:
            return role
    return Role.AGENT
