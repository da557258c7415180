"""role_from_window: roles from window names."""

from __future__ import annotations

import pytest

from tmux_orc.detect.roles import role_from_window
from tmux_orc.model import Role


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("Claude-pm", Role.PM),
        ("claude-PM", Role.PM),
        ("Claude-project-manager", Role.PM),
        ("Claude-orchestrator", Role.ORCHESTRATOR),
        ("Claude-orc", Role.ORCHESTRATOR),
        ("Claude-developer", Role.DEVELOPER),
        ("Claude-dev", Role.DEVELOPER),
        ("Claude-backend-dev", Role.DEVELOPER),
        ("Claude-frontend", Role.DEVELOPER),
        ("Claude-dev2", Role.DEVELOPER),
        ("Claude-qa", Role.QA),
        ("Claude-tester", Role.QA),
        ("Claude-devops", Role.DEVOPS),
        ("Claude-ops", Role.DEVOPS),
        ("Claude-reviewer", Role.REVIEWER),
        ("Claude-review", Role.REVIEWER),
        ("Claude-researcher", Role.RESEARCHER),
        ("Claude-research", Role.RESEARCHER),
        ("Claude-helper", Role.AGENT),
        ("Claude-", Role.AGENT),
        ("bash", None),
        ("", None),
        ("my-Claude-pm", None),
    ],
)
def test_roles(name: str, role: Role | None) -> None:
    assert role_from_window(name) is role


def test_prefix_and_overrides() -> None:
    assert role_from_window("Agent-qa", prefix="agent-") is Role.QA
    assert role_from_window("Claude-qa", prefix="agent-") is None
    overrides = {"lead": Role.PM, "Claude-qa": Role.REVIEWER}
    assert role_from_window("lead", overrides=overrides) is Role.PM
    assert role_from_window("Claude-qa", overrides=overrides) is Role.REVIEWER
