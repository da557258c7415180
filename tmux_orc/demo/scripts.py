"""The demo team: which sample agents exist and what each simulated agent does over time.

A script is a list of :class:`Step`; the simulator plays it in a loop (a ``crash`` step ends it). Steps
last several seconds so that a monitor sampling every second sees each state settle.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Step:
    """One stretch of scripted behaviour.

    ``action`` is one of: ``idle`` (empty prompt), ``type`` (text appears in the prompt over the step),
    ``hold`` (typed text sits unsubmitted), ``work`` (submit the prompt, spinner; ``lines`` are the reply),
    ``ask`` (permission dialog for the Bash command ``text``; ``lines`` = reason, output),
    ``rate_limit`` (API error 429 shown, back at the prompt), ``crash`` (the program exits).
    The simulator itself adds ``resume`` (quiet at the prompt after keys, then back to the script).
    """

    action: str
    seconds: float
    text: str = ""
    lines: tuple[str, ...] = ()


ACTIONS = frozenset({"idle", "type", "hold", "work", "ask", "rate_limit", "crash"})

SCRIPTS: dict[str, tuple[Step, ...]] = {
    "pm": (
        Step("idle", 5),
        Step("type", 3, "ask the developer for a status update"),
        Step("work", 9, "Coordinating", ("Sent the developer a status request; QA is on the login tests.",)),
        Step("idle", 20),
        Step("work", 7, "Planning", ("Updated the plan: reviewer takes PR #42 next.",)),
        Step("idle", 15),
    ),
    "developer": (
        Step("work", 10, "Forming", ("The login test fails because the session cookie is not awaited.",)),
        Step("ask", 9, "npm test -- login", ("Run the login tests", "PASS tests/login.test.ts (3 tests)")),
        Step("work", 8, "Refactoring", ("Fixed: awaited the cookie write; all 3 login tests pass.",)),
        Step("idle", 8),
        Step("type", 3, "now add a test for the logout path"),
        Step("work", 14, "Writing", ("Added tests/logout.test.ts (2 tests).",)),
        Step("idle", 10),
    ),
    "qa": (
        Step("idle", 4),
        Step("work", 8, "Testing", ("Ran the e2e suite: 41 passed, 1 flaky (checkout).",)),
        Step("idle", 5),
        Step("crash", 0, "lost connection to the model server (simulated crash)"),
    ),
    "reviewer": (
        Step("idle", 4),
        Step("type", 4, "review PR #42 and list the risky changes"),
        Step("hold", 12),
        Step("work", 9, "Reviewing", ("PR #42: two risky changes in auth/session.ts; details posted.",)),
        Step("idle", 15),
    ),
    "researcher": (
        Step("work", 6, "Researching", ("Found three approaches to rate limiting the API.",)),
        Step("rate_limit", 25, "Rate limit reached; resets 3pm (UTC)"),
        Step("idle", 10),
    ),
    "devops": (
        Step("idle", 6),
        Step("work", 7, "Deploying", ("Built the image tmux-orc-demo:latest.",)),
        Step("ask", 14, "kubectl rollout restart deploy/api", ("Restart the API pods", "deployment restarted")),
        Step("idle", 12),
    ),
}

# Windows of the demo team, in the order they are created (tmux window names: ``Claude-<role>``).
TEAM_ROLES: tuple[str, ...] = ("pm", "developer", "qa", "reviewer", "researcher", "devops")


def team(agent_count: int) -> list[tuple[str, str]]:
    """``(window name, script name)`` for ``agent_count`` agents: one of each role first, then more
    developers and others numbered ``-2``, ``-3``, ..."""
    members: list[tuple[str, str]] = []
    for index in range(agent_count):
        role = TEAM_ROLES[index % len(TEAM_ROLES)]
        round_number = index // len(TEAM_ROLES) + 1
        suffix = "" if round_number == 1 else f"-{round_number}"
        members.append((f"Claude-{role}{suffix}", role))
    return members
