"""Human lines for ``tmux-orc explain``: what was decided, by which rule, from what."""

from __future__ import annotations

from tmux_orc.detect import toolcpu
from tmux_orc.detect.rules import Profiles
from tmux_orc.model import Observation, ProcessFacts


def explain(observation: Observation, facts: ProcessFacts | None = None) -> list[str]:
    """A few lines a person can read: state, detail, rule, evidence, process facts, timing."""
    verdict = observation.verdict
    lines = [f"state:     {verdict.state}"]
    if verdict.detail:
        lines.append(f"detail:    {verdict.detail}")
    lines.append(f"rule:      {verdict.rule or '-'}")
    for index, item in enumerate(verdict.evidence):
        lines.append(f"{'evidence:' if index == 0 else '':<10} {item}")
    if facts is not None:
        agent = f"pid {facts.agent_pid}" if facts.agent_pid is not None else "not running"
        flags = [
            name for name, on in (("stopped", facts.stopped), ("shell in foreground", facts.shell_in_foreground)) if on
        ]
        lines.append(f"process:   {facts.kind} {agent}" + (f" ({', '.join(flags)})" if flags else ""))
        if facts.commands:
            lines.append(f"tree:      {' > '.join(facts.commands)}")
        share = toolcpu.busy_share(observation.tools, facts, observation.at)
        if share is not None and observation.tools is not None:
            span = observation.at - observation.tools.samples[0][0]
            lines.append(f"tools:     {share:.0%} of a CPU over the last {span:.0f}s")
    unchanged = observation.at - observation.unchanged_since
    lines.append(f"screen:    hash {observation.screen_hash:016x}, unchanged for {unchanged:.0f}s")
    return lines


def describe_profiles(profiles: Profiles) -> list[str]:
    """The rule tables as text, one rule a line, in the order they are tried."""
    lines: list[str] = []
    for profile in profiles:
        lines.append(f"[{profile.kind}] {profile.description}")
        for rule in profile.rules:
            needs = {True: " (prompt shown)", False: " (no prompt)", None: ""}[rule.requires_input]
            lines.append(f"  {rule.name:<24} {rule.state:<13} {rule.region:<7} {rule.pattern.pattern}{needs}")
    return lines
