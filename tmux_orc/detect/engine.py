"""classify(): one pane's screen, process facts and history in, one :class:`Observation` out.

Decision order: process facts (dead pane, no agent program, stopped program) decide first and words
never crash an agent; then the profile's rules read the bottom of the screen; a working screen that
has not changed, with no tool of the agent busy on a CPU, for ``stuck_after`` seconds is stuck; hook
events fill in when the screen says nothing; an agent whose screen is not recognised is ``starting``
while young, else ``unknown``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from tmux_orc.detect import toolcpu
from tmux_orc.detect.profiles import DEFAULT_PROFILES
from tmux_orc.detect.ratelimit import parse_reset
from tmux_orc.detect.rules import Profile, Profiles, Rule
from tmux_orc.detect.screen import Layout, ScreenShape, read_layout
from tmux_orc.model import AgentEvent, Kind, Observation, PaneInfo, ProcessFacts, State, Verdict, is_agent_kind

_EVENT_STATES = {
    "UserPromptSubmit": State.WORKING,
    "PermissionRequest": State.WAITING_INPUT,  # Claude Code: a permission dialog is shown
    "PreToolUse": State.WORKING,
    "PostToolUse": State.WORKING,
    "Stop": State.IDLE,
    "SessionStart": State.IDLE,
    "agent-turn-complete": State.IDLE,  # Codex notify
    "BeforeAgent": State.WORKING,  # Gemini CLI: a prompt submitted
    "AfterAgent": State.IDLE,  # Gemini CLI: the turn is done
}
# The Notification hook's ``notification_type`` (auth_success and others say no state): Claude Code's
# and Qwen Code's, and Gemini CLI's ToolPermission (a tool call waits for approval).
_NOTIFICATION_STATES = {
    "permission_prompt": State.WAITING_INPUT,
    "idle_prompt": State.IDLE,
    "elicitation_dialog": State.WAITING_INPUT,
    "ToolPermission": State.WAITING_INPUT,
}
_COUNTERS = re.compile(r"(?<!\s)\s*\([^()]*\)")
_GLYPH = re.compile(r"^[^\w\s]\s+(?=\S)")  # a spinner's animated glyph
_TITLE_GLYPH = re.compile(r"^[^\w\s\[(]\s*")  # a spinner frame in front of a pane title
# "✻ 529 Overloaded · retrying in 3s · attempt 3/10" (the rule claude.api-retrying in agents/claude.toml)
_RETRY = re.compile(
    r"^(?:[^\w\s]\s+)?(?P<what>.+?)(?<!\s)\s+[·•]\s+retrying in\b.*?\battempt (?P<n>\d+)\s*/\s*(?P<of>\d+)")
_API_ERROR = re.compile(r"(?i)^api error\b")
# Claude Code 2.0's "Retrying in 4 seconds… (attempt 4/10)" (the failure is on the line(s) above)
_RETRY_LATER = re.compile(r"(?i)^(?P<what>.*?)(?<!\s)\s*\bretrying in\b.*?\battempt (?P<n>\d+)\s*/\s*(?P<of>\d+)")
_RATE_LIMITED_RETRY = re.compile(
    r"(?i)^api error (?:429\b|.*\b(?:rate.?limit|too many requests)).*, retrying \(attempt"
)
_LEAD = re.compile(r"^[●⏺⎿✗✘×⚠\s]*")  # bullets Claude Code puts before transcript entries and tool results
_JSON_MESSAGE = re.compile(r'"message"\s*:\s*"([^"]{1,120})"')
_STATUS = re.compile(r"^\d{3}\b")
_ASK = re.compile(r"(?i)^(?:choose|select|pick)\b")
_log = logging.getLogger(__name__)
TOOL_CAP = 4  # a screen frozen this many stuck thresholds is stuck, however busy its tools look


@dataclass(frozen=True, slots=True)
class DetectContext:
    """What classify() needs besides the screen: the clock, thresholds and recent hook events."""

    now: float
    first_seen: float  # when the daemon first saw this agent's program running
    stuck_after: float = 300.0
    starting_after: float = 60.0
    events: tuple[AgentEvent, ...] = ()  # recent hook events for this pane, newest last


def event_state(event: AgentEvent) -> State | None:
    """The state a hook event reports, if any (e.g. ``Stop`` -> idle).

    A Claude Code ``Notification`` says what it is in ``notification_type``; releases that send no
    type (1.x) are read from their two fixed messages.

    >>> event_state(AgentEvent(0.0, "Notification", {"notification_type": "permission_prompt"}))
    <State.WAITING_INPUT: 'waiting_input'>
    >>> event_state(AgentEvent(0.0, "Notification", {"notification_type": "auth_success"})) is None
    True
    """
    if event.event == "Notification":
        kind = event.details.get("notification_type")
        if kind is not None:
            return _NOTIFICATION_STATES.get(kind)
        message = event.details.get("message", "")
        if message.startswith("Claude needs your permission"):
            return State.WAITING_INPUT
        if message == "Claude is waiting for your input":
            return State.IDLE
        return None
    return _EVENT_STATES.get(event.event)


def hook_state(events: Sequence[AgentEvent]) -> tuple[State, AgentEvent] | None:
    """The state of the newest hook event that reports one."""
    for event in reversed(events):
        state = event_state(event)
        if state is not None:
            return state, event
    return None


def hook_confirms(verdict: Verdict, events: Sequence[AgentEvent]) -> bool:
    """True when the newest state-bearing hook event agrees with ``verdict`` (see Debouncer.feed)."""
    found = hook_state(events)
    return found is not None and found[0] == verdict.state


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _crash_verdict(pane: PaneInfo, facts: ProcessFacts, screen: str, profiles: Profiles) -> Verdict | None:
    """Process facts that decide alone: dead pane, agent gone. Screen words only add detail."""
    evidence = tuple(f"process: {name}" for name in facts.commands[:6])
    if pane.dead:
        status = "" if pane.dead_status is None else f" (exit status {pane.dead_status})"
        return Verdict(State.CRASHED, f"pane is dead{status}", "process.pane-dead", (f"pane_dead=1{status}",))
    if facts.agent_pid is not None:
        return None
    if is_agent_kind(facts.kind):
        detail, name = f"{facts.kind} exited (zombie process not yet reaped)", "process.zombie"
    elif facts.kind == Kind.SHELL or facts.shell_in_foreground:
        detail, name = "agent program exited; shell in foreground", "process.exited"
    elif facts.commands:
        detail, name = (
            f"no agent program running (processes: {', '.join(facts.commands[:4])})",
            "process.no-agent",
        )
    else:
        detail, name = "no agent program running (the pane has no processes)", "process.no-agent"
    shell = profiles.get(Kind.SHELL)
    if shell is not None:
        bottom = Layout(tail=read_layout(screen, shell.shape).tail[-4:])  # the last words the shell printed
        found = shell.first_match(bottom, pane.title)
        if found is not None:
            hint_rule, hits = found
            if hint_rule.name != "shell.prompt":
                detail += f": {_short(hits[-1], 100)}"
            evidence += tuple(_short(h, 200) for h in hits[-2:])
    return Verdict(State.CRASHED, detail, name, evidence)


QUESTION_REACH = 8  # lines above a menu where its question is looked for


def _menu_question(layout: Layout) -> str | None:
    """The question a menu answers: the nearest line ending in "?" above its selected option (a
    question dialog such as Claude Code's AskUserQuestion puts a header, the question, then options)."""
    if not layout.menu or layout.menu[0] not in layout.window:
        return None
    top = layout.window.index(layout.menu[0])
    for line in reversed(layout.window[max(0, top - QUESTION_REACH) : top]):
        if line.endswith("?"):
            return _short(line, 120)
    return None


def _question(layout: Layout, fallback: str) -> str:
    """The question asked: the one above a menu, else the newest line ending in "?", else one asking
    to choose, else ``fallback``."""
    asked = _menu_question(layout)
    if asked is not None:
        return asked
    lines = layout.dialog or layout.live
    for line in reversed(lines):
        if line.endswith("?"):
            return _short(line, 120)
    for line in reversed(lines):
        if _ASK.match(line):
            return _short(line, 120)
    return _short(fallback, 120)


def _retry_detail(line: str, layout: Layout) -> str | None:
    """``API error 529 Overloaded, retrying (attempt 3/10)``: no countdown, so it changes per attempt only.

    Two forms: one status line (``✻ 529 Overloaded · retrying in 3s · attempt 3/10``), or the failure on
    the line above ``Retrying in 4 seconds… (attempt 4/10)``, possibly as the API's JSON body.
    """
    found = _RETRY.match(line)
    if found is not None:
        what = found.group("what")
    else:
        found = _RETRY_LATER.search(line)
        if found is None:
            return None
        what = found.group("what").strip() or _failure_above(layout.tail)
        what = _failure(_LEAD.sub("", what))
    what = what if _API_ERROR.match(what) else f"API error {what}"
    return f"{_short(what, 100)}, retrying (attempt {found.group('n')}/{found.group('of')})"


def _failure_above(lines: Sequence[str]) -> str:
    """The failure shown above the last ``Retrying in`` line: from the ``⎿`` line that opens it (a long
    JSON body wraps onto several lines), joined; "" when there is none."""
    for index in range(len(lines) - 1, 0, -1):
        if lines[index].lower().startswith("retrying in"):
            block = lines[max(0, index - 4) : index]
            for start in range(len(block) - 1, -1, -1):
                if block[start].startswith("⎿"):
                    return " ".join(block[start:])
            return block[-1] if block else ""
    return ""


def _failure(text: str) -> str:
    """``529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`` -> ``529 Overloaded``."""
    body = _JSON_MESSAGE.search(text)
    if body is None:
        return text or "request failed"
    status = _STATUS.match(text)
    return f"{status.group(0)} {body.group(1)}" if status else body.group(1)


def _detail(rule: Rule, hits: tuple[str, ...], layout: Layout, ctx: DetectContext, prev: Verdict | None) -> str:
    state = rule.state
    if state in (State.ERROR, State.RATE_LIMITED):
        retrying = _retry_detail(hits[0], layout)
        if retrying is not None:
            return retrying
    if state is State.WORKING:
        return "busy (pane title)" if rule.region == "title" else _short(_GLYPH.sub("", _COUNTERS.sub("", hits[0])), 80)
    if state is State.WAITING_INPUT:
        return _question(layout, hits[0])
    if state is State.RATE_LIMITED:
        if prev is not None and prev.state is State.RATE_LIMITED and prev.evidence[:1] == hits[:1]:
            return prev.detail  # same message: keep the reset time read when it first showed
        reset = parse_reset("\n".join(layout.live), ctx.now)
        return _short(hits[0], 120) + (f"; resets {reset.describe()}" if reset else "")
    if state is State.UNSUBMITTED:
        typed = (layout.input or "").splitlines() or [""]
        more = f" (+{len(typed) - 1} lines)" if len(typed) > 1 else ""
        return f"typed: {_short(typed[0], 60)}{more}"
    if state is State.IDLE:
        return "at prompt" if rule.region != "title" else "at prompt (pane title)"
    return _short(hits[0])


def _screen_verdict(
    profile: Profile, layout: Layout, pane: PaneInfo, ctx: DetectContext, prev: Verdict | None
) -> Verdict | None:
    found = profile.first_match(layout, pane.title)
    if found is None:
        return None
    rule, hits = found
    detail = _detail(rule, hits, layout, ctx, prev)
    state = rule.state
    if state is State.ERROR and _RATE_LIMITED_RETRY.match(detail):
        state = State.RATE_LIMITED  # a rate limit being retried is still a rate limit
    return Verdict(state, detail, rule.name, tuple(_short(h, 200) for h in hits[:3]))


def _fallback(ctx: DetectContext, layout: Layout) -> Verdict:
    hook = hook_state(ctx.events)
    if hook is not None:
        state, event = hook
        return Verdict(
            state,
            f"reported by the agent's {event.event} hook",
            f"hook.{event.event}",
            (f"hook {event.event} at {event.at:.0f}",),
        )
    age = ctx.now - ctx.first_seen
    if age < ctx.starting_after:
        return Verdict(
            State.STARTING,
            f"agent program running for {max(age, 0):.0f}s; its screen is not shown yet",
            "process.starting",
        )
    evidence = tuple(_short(line, 200) for line in layout.tail[-3:])
    return Verdict(State.UNKNOWN, "screen not recognised", "screen.unrecognised", evidence)


def _fingerprint(layout: Layout, title: str) -> int:
    """What "the screen changed" means for the stuck check: the live region without its clocks
    (:meth:`Layout.fingerprint`) and the pane title without its spinner frame."""
    digest = hashlib.blake2b(digest_size=8)
    digest.update(layout.fingerprint().to_bytes(8, "big"))
    digest.update(_TITLE_GLYPH.sub("", title.strip()).encode("utf-8", "replace"))
    return int.from_bytes(digest.digest(), "big") >> 1


def _decide(
    screen: str,
    pane: PaneInfo,
    facts: ProcessFacts,
    prev: Observation | None,
    ctx: DetectContext,
    profiles: Profiles,
) -> Observation:
    profile = profiles.get(facts.kind)
    layout = read_layout(screen, profile.shape if profile is not None else ScreenShape())
    screen_hash = _fingerprint(layout, pane.title)
    same = prev is not None and prev.screen_hash == screen_hash
    tools = toolcpu.record(prev.tools if prev is not None else None, facts, ctx.now, ctx.stuck_after)
    unchanged_since = prev.unchanged_since if prev is not None and same else ctx.now
    verdict = _crash_verdict(pane, facts, screen, profiles)
    if verdict is None and facts.stopped:
        verdict = Verdict(
            State.STUCK,
            "agent process is stopped (SIGSTOP or ctrl-z)",
            "process.stopped",
            (f"process {facts.agent_pid} state T",),
        )
    if verdict is None and profile is not None and is_agent_kind(facts.kind):  # shell rules only word crashes
        verdict = _screen_verdict(profile, layout, pane, ctx, prev.verdict if prev is not None else None)
    if verdict is None:
        verdict = _fallback(ctx, layout)
    frozen_for = ctx.now - unchanged_since
    if verdict.state is State.WORKING and frozen_for >= ctx.stuck_after:
        verdict = _frozen_verdict(verdict, frozen_for, toolcpu.busy_share(tools, facts, ctx.now), ctx.stuck_after)
    return Observation(
        at=ctx.now, verdict=verdict, screen_hash=screen_hash, unchanged_since=unchanged_since, tools=tools
    )


def _frozen_verdict(verdict: Verdict, frozen_for: float, share: float | None, stuck_after: float) -> Verdict:
    """A working screen frozen past the threshold: stuck, unless a silent tool is busy (up to a cap)."""
    cpu = f"tools used {share:.0%} of a CPU over about the last {stuck_after:.0f}s" if share is not None else ""
    busy = toolcpu.tools_busy(share)
    if busy and frozen_for < TOOL_CAP * stuck_after:
        return Verdict(State.WORKING, f"{verdict.detail} (a silent tool is busy)", verdict.rule,
                       (*verdict.evidence, cpu))
    # The detail stays the same while the agent stays stuck (no PropertiesChanged every cycle); the
    # evidence and state_since carry the figures.
    limit, why = (TOOL_CAP * stuck_after, f"over {TOOL_CAP}x the threshold") if busy else (stuck_after, "tools idle")
    return Verdict(
        State.STUCK,
        f"working screen unchanged for over {limit:.0f}s, {why} ({verdict.detail})",
        "stuck.unchanged",
        (*verdict.evidence, f"frozen for {frozen_for:.0f}s", *([cpu] if cpu else [])),
    )


def classify(
    screen: str,
    pane: PaneInfo,
    facts: ProcessFacts,
    prev: Observation | None,
    ctx: DetectContext,
    profiles: Profiles | None = None,
) -> Observation:
    """Classify one pane. Pure: no I/O, and it never raises."""
    try:
        return _decide(screen, pane, facts, prev, ctx, profiles or DEFAULT_PROFILES)
    except Exception as exc:  # noqa: BLE001 - a detector bug must not stop the cycle; it shows as unknown
        _log.error("detector error on pane %s", pane.pane_id, exc_info=exc)  # the only trace of the bug
        verdict = Verdict(State.UNKNOWN, f"detector error: {type(exc).__name__}: {exc}", "engine.error")
        since = prev.unchanged_since if prev is not None else ctx.now
        return Observation(at=ctx.now, verdict=verdict, screen_hash=0, unchanged_since=since)
