"""Auto-resume after a usage limit: when a rate-limited agent's limit has reset, type ``continue``.

:class:`AutoResumer` decides (pure: time comes in as ``now``): an agent is due once it is still
``rate_limited``, auto-resume is on for its role, its reset time is known and passed by the margin,
and this limit was not resumed before (at most once per limit). :class:`AutoResume` is the cycle hook
that acts: the message goes through the PM-pane delivery path (pasted only into an empty prompt,
followed until submitted), and an ``auto_resumed`` alert says it was done.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tmux_orc.core.delivery import DeliveryRefused, Step, Submission, deliver
from tmux_orc.core.monitor import CycleReport, MonitorCore
from tmux_orc.core.ports import Clock, PaneActions, PaneIOError
from tmux_orc.core.tracker import AgentSnapshot
from tmux_orc.detect.ratelimit import parse_reset
from tmux_orc.model import AgentView, AlertKind, Role, State

log = logging.getLogger(__name__)

SAME_LIMIT = 60.0  # seconds: two reset times this close are the same limit
# How the detection engine writes a reset time into the detail (detect.ratelimit.ResetTime.describe).
_DESCRIBED = re.compile(
    r"\bresets (?P<when>\d{4}-\d{2}-\d{2} \d{2}:\d{2})(?: [A-Za-z][\w+-]*)?(?: \((?P<zone>[^)]+)\))?")


def reset_time(detail: str, evidence: Sequence[str], since: float) -> float | None:
    """When the limit resets: the minute the engine put in ``detail``, to the second when the limit's
    own words (``evidence``, read as of ``since``) say so within that minute; None when unknown."""
    match = _DESCRIBED.search(detail)
    if match is None:
        return None
    naive = datetime.strptime(match.group("when"), "%Y-%m-%d %H:%M")
    zone_name = match.group("zone") or ""
    try:
        zone = ZoneInfo("UTC" if zone_name.lower() in ("utc", "gmt", "z") else zone_name) if zone_name else None
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    shown = naive.replace(tzinfo=zone).timestamp() if zone is not None else naive.timestamp()
    precise = parse_reset("\n".join(evidence), since)
    if precise is not None and shown <= precise.at < shown + 60:
        return precise.at
    return shown


def wanted(setting: bool | Sequence[Role], role: Role) -> bool:
    """Whether ``auto_resume`` (true, false, or a list of roles) covers an agent of ``role``."""
    return setting if isinstance(setting, bool) else role in setting


@dataclass(slots=True)
class Plan:
    """One limit of one agent: when it resets, when to resume, what happened."""

    since: float  # state_since of the rate_limited state: identifies the limit
    reset_at: float | None
    due_at: float | None
    status: str = ""
    sent_at: float | None = None


class AutoResumer:
    """Which rate-limited agents to resume now (pure)."""

    def __init__(self, margin: float = 60.0) -> None:
        self.margin = margin
        self.plans: dict[str, Plan] = {}
        self.resumed: dict[str, float] = {}  # agent id -> reset time of the limit last resumed
        self.count = 0

    def due(self, agent: AgentView, reset: Callable[[], float | None], now: float, enabled: bool) -> bool:
        """True when ``agent`` should get the resume message now. ``reset`` is asked once per limit."""
        if agent.state != State.RATE_LIMITED:
            self.plans.pop(agent.id, None)
            return False
        plan = self.plans.get(agent.id)
        if plan is None or plan.since != agent.state_since:
            at = reset()
            plan = Plan(agent.state_since, at, None if at is None else at + self.margin)
            self.plans[agent.id] = plan
        if plan.sent_at is not None:
            return False
        if not enabled:
            plan.status = f"off for role {agent.role} (auto_resume)"
        elif plan.reset_at is None or plan.due_at is None:
            plan.status = "reset time unknown: not resuming"
        elif abs(self.resumed.get(agent.id, -1e18) - plan.reset_at) < SAME_LIMIT:
            plan.status = "already resumed once after this limit; limited again: left for a person"
        elif now < plan.due_at:
            plan.status = "waiting for the limit to reset"
        else:
            return True
        return False

    def sent(self, agent_id: str, now: float) -> None:
        """The message was pasted: never again for this limit."""
        plan = self.plans[agent_id]
        plan.sent_at, plan.status = now, "resume message sent"
        if plan.reset_at is not None:
            self.resumed[agent_id] = plan.reset_at
        self.count += 1

    def held(self, agent_id: str, why: str) -> None:
        """Not delivered this cycle (someone typed in the prompt, tmux refused): tried again next cycle."""
        plan = self.plans.get(agent_id)
        if plan is not None:
            plan.status = f"due, held: {why}"

    def forget(self, present: Iterable[str]) -> None:
        """Drop what is known about agents that are gone."""
        keep = set(present)
        self.plans = {k: v for k, v in self.plans.items() if k in keep}
        self.resumed = {k: v for k, v in self.resumed.items() if k in keep}

    def explain(self, agent_id: str) -> dict[str, Any]:
        """``auto_resume`` (what it will do or did) and ``auto_resume_at`` (unix time, 0 when none)."""
        plan = self.plans.get(agent_id)
        if plan is None:
            return {"auto_resume": "", "auto_resume_at": 0.0}
        return {"auto_resume": plan.status, "auto_resume_at": plan.due_at or 0.0}


NOT_DELIVERED = (DeliveryRefused, PaneIOError, TimeoutError, ValueError)  # nothing was pasted


class AutoResume:
    """The cycle hook: resumes the agents :class:`AutoResumer` finds due, through ``deliver``."""

    def __init__(self, core: MonitorCore, actions: PaneActions,
                 alert: Callable[[AlertKind, AgentView, str], None], busy: Callable[[str], bool],
                 clock: Clock = time.time) -> None:
        self.core = core
        self.actions = actions
        self.alert = alert
        self.busy = busy  # another message to this agent is being followed (the alert dispatcher's)
        self.clock = clock
        self.resumer = AutoResumer(core.settings.resume_margin)
        self.pending: dict[str, tuple[Submission, float | None]] = {}  # agent id -> (message, reset time)

    async def on_cycle(self, report: CycleReport) -> None:
        """After each cycle: follow the messages sent, then resume the agents that are due."""
        settings = self.core.settings
        now = self.clock()
        records = {rec.view.id: rec for rec in self.core.tracker.snapshots()}
        self.resumer.margin = settings.resume_margin
        self.resumer.forget(records)
        await self._follow(records)
        for rec in list(records.values()):
            view = rec.view
            evidence = rec.observation.verdict.evidence if rec.observation else ()
            reset = functools.partial(reset_time, view.detail, evidence, view.state_since)
            if not self.resumer.due(view, reset, now, wanted(settings.auto_resume, view.role)):
                continue
            if view.id in self.pending or self.busy(view.id):
                continue
            try:
                pending = await deliver(self.actions, rec.pane.pane_id, settings.resume_message, rec.screen,
                                        view.kind, self.core.profiles)
            except NOT_DELIVERED as exc:
                self.resumer.held(view.id, str(exc))
                log.debug("auto-resume of %s held: %s", view.target, exc)
                continue
            self.pending[view.id] = (pending, self.resumer.plans[view.id].reset_at)
            self.resumer.sent(view.id, now)
            log.info("auto-resume: sent %r to %s, its usage limit having reset", settings.resume_message, view.target)

    async def _follow(self, records: dict[str, AgentSnapshot]) -> None:
        """Was each resume message submitted? Enter again (bounded), then the alert."""
        for agent_id, (pending, reset_at) in list(self.pending.items()):
            rec = records.get(agent_id)
            if rec is None:
                del self.pending[agent_id]
                continue
            step = pending.check(rec.screen)
            if step is Step.DONE:
                del self.pending[agent_id]
                when = time.strftime("%H:%M", time.localtime(reset_at)) if reset_at else "?"
                self.alert(AlertKind.AUTO_RESUMED, rec.view,
                           f"usage limit reset at {when}; sent {self.core.settings.resume_message!r}")
            elif step is Step.FAILED:
                del self.pending[agent_id]
                log.warning("auto-resume message in %s was not submitted; left for a person", rec.view.target)
            else:
                try:
                    await pending.retry_enter(self.actions)
                except NOT_DELIVERED as exc:
                    log.warning("could not press Enter in %s: %s", rec.view.target, exc)

    def explain(self, agent_id: str) -> dict[str, Any]:
        """Fields for Explain."""
        return self.resumer.explain(agent_id)

    def counters(self) -> dict[str, int]:
        """Fields for GetMetrics."""
        return {"auto_resumes": self.resumer.count}
