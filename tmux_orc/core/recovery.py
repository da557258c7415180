"""PMRecoveryManager: carries out what the recovery policy decides, through the pane-actions port.

A recovery re-checks the process facts right before acting (a healthy agent is never touched), starts
the spawn command in a new window of the same session through the terminal server (so the agent is
never the daemon's child), removes the crashed pane, and waits until the agent program runs under the
new pane. The outcome is reported as ``RecoveryFinished`` and as an alert.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from tmux_orc.config import Settings
from tmux_orc.core.errors import Busy, Failed, InvalidArgument, NotFound
from tmux_orc.core.events import RecoveryFinished
from tmux_orc.core.monitor import CycleReport, MonitorCore
from tmux_orc.core.ports import Clock, PaneActions, PaneIOError
from tmux_orc.core.recovery_policy import Action, RecoveryPolicy, Refusal, recovery_key
from tmux_orc.core.tracker import AgentSnapshot
from tmux_orc.detect.process import find_agent
from tmux_orc.model import AgentView, AlertKind, Kind, PaneInfo, Role, State

log = logging.getLogger(__name__)

RecoveredHook = Callable[[AgentView, str], None]  # (crashed agent, new pane id)
AlertSink = Callable[[AlertKind, AgentView, str], None]
OPTION_TYPES = {"command": str}


def _no_alert(kind: AlertKind, agent: AgentView, body: str) -> None:
    """The alert sink of a manager built without one (tests)."""


def policy_from_settings(settings: Settings) -> RecoveryPolicy:
    """The recovery policy the settings describe."""
    return RecoveryPolicy(
        confirmations=settings.recovery_confirmations,
        grace=settings.recovery_grace,
        cooldown=settings.recovery_cooldown,
        max_attempts=settings.recovery_max_attempts,
        auto_recover_pm=settings.auto_recover_pm,
    )


class RecoveryManager:
    """Starts, tracks and reports recoveries: automatic ones for crashed PMs, and clients' requests."""

    def __init__(
        self,
        core: MonitorCore,
        policy: RecoveryPolicy,
        actions: PaneActions,
        *,
        alert: AlertSink = _no_alert,
        on_recovered: Sequence[RecoveredHook] = (),
        clock: Clock = time.time,
    ) -> None:
        self.core = core
        self.policy = policy
        self.actions = actions
        self.clock = clock
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.on_recovered = tuple(on_recovered)
        self.alert = alert
        self.started = 0
        self.succeeded = 0
        self.failed = 0

    @property
    def settings(self) -> Settings:
        """The settings in force (the core's: a reload replaces them there)."""
        return self.core.settings

    # --- requests --------------------------------------------------------------------------------
    def request(self, target: str, options: Mapping[str, Any]) -> str:
        """A client's Recover(): validate, start at once, return the recovery id."""
        for key, value in options.items():
            if key not in OPTION_TYPES:
                raise InvalidArgument(f"unknown option {key!r}: allowed are {', '.join(OPTION_TYPES)}")
            if not isinstance(value, OPTION_TYPES[key]) or not str(value).strip():
                raise InvalidArgument(f"option {key!r} must be a non-empty string")
        rec = self.core.tracker.find_snapshot(target)
        if rec is None:
            raise NotFound(f"no agent matches {target!r} (try `tmux-orc agents`)")
        decision = self.policy.decide_manual(rec.view, self.clock())
        if decision.action is not Action.RECOVER:
            if decision.refusal is Refusal.BUSY:
                raise Busy(decision.reason)
            if decision.refusal is Refusal.NOT_CRASHED:
                raise InvalidArgument(decision.reason)
            raise Failed(decision.reason)
        return self._start(rec, options.get("command"), manual=True)

    async def on_cycle(self, report: CycleReport) -> None:
        """Automatic recovery of crashed PMs, as the policy allows."""
        now = self.clock()
        present: set[str] = set()
        for rec in self.core.tracker.snapshots():
            view = rec.view
            present.add(recovery_key(view))
            self.policy.note_state(view, now)
            if view.role is not Role.PM or view.state is not State.CRASHED:
                continue
            if not (rec.pane.dead or rec.facts.shell_in_foreground):
                continue  # no agent, but no shell either (ssh, an editor...): shown as crashed, never replaced
            if now - view.state_since < self.settings.recovery_confirmations * self.settings.interval:
                continue  # confirmations are counted in time too, so extra cycles cannot shorten them
            decision = self.policy.decide(view, rec.crash_streak, now)
            if decision.action is Action.RECOVER:
                log.warning("%s: PM crashed (%s); %s", view.target, view.detail, decision.reason)
                self._start(rec, None, manual=False)
            elif decision.action is Action.GIVE_UP:
                log.error("%s: %s; giving up", view.target, decision.reason)
                self.alert(AlertKind.CRASH_LOOP, view,
                           f"{decision.reason}. Automatic recovery stopped; bring it back by hand "
                           f"(`tmux-orc monitor recover {view.target}`).")
        self.policy.forget_missing(present | {k for k, t in self.tasks.items() if not t.done()})

    def spawn_command(self, kind: str) -> str:
        """What brings back a crashed agent of ``kind``: ``pm_spawn_command`` when set, else its agent
        definition's resume command, else the program itself (Claude Code's resume as the last resort)."""
        if self.settings.pm_spawn_command:
            return self.settings.pm_spawn_command
        catalog = self.core.catalog
        resume = catalog.resume_command(kind)
        if resume:
            return resume
        definition = catalog.get(kind)
        if definition is not None and definition.program is not None and definition.program.names:
            return sorted(definition.program.names)[0]
        return catalog.resume_command(Kind.CLAUDE) or "claude --continue"

    # --- the recovery itself ---------------------------------------------------------------------
    def _start(self, rec: AgentSnapshot, command: str | None, *, manual: bool) -> str:
        recovery_id = uuid.uuid4().hex[:12]
        key = recovery_key(rec.view)
        attempt = self.policy.record_attempt(key, self.clock())
        self.started += 1
        log.info("%s: recovery %s started (attempt %d%s)", rec.view.target, recovery_id, attempt,
                 ", requested by a client" if manual else "")
        task = asyncio.create_task(self._recover(recovery_id, key, rec.view, rec.pane, command, manual))
        self.tasks[key] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self.tasks.get(key) is done:
                del self.tasks[key]

        task.add_done_callback(forget)
        return recovery_id

    async def _recover(self, rid: str, key: str, view: AgentView, pane: PaneInfo, command: str | None,
                       manual: bool) -> None:
        try:
            ok, detail = await self._spawn_and_verify(view, pane, command or self.spawn_command(view.kind),
                                                      manual=manual)
        except asyncio.CancelledError:
            self.policy.record_outcome(key, False, self.clock(), "cancelled")
            self.core.hub.emit(RecoveryFinished(rid, view.target, False,
                                                "cancelled: monitoring stopped or the daemon is stopping"))
            raise
        except Exception as exc:  # every failure is an outcome, never a silent dead task
            log.exception("%s: recovery %s failed unexpectedly", view.target, rid)
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        self.policy.record_outcome(key, ok, self.clock(), detail)
        if ok:
            self.succeeded += 1
            log.info("%s: recovery %s succeeded: %s", view.target, rid, detail)
        else:
            self.failed += 1
            log.error("%s: recovery %s failed: %s", view.target, rid, detail)
        self.core.hub.emit(RecoveryFinished(rid, view.target, ok, detail))
        self.alert(AlertKind.RECOVERED if ok else AlertKind.RECOVERY_FAILED, view, detail)

    async def _spawn_and_verify(self, view: AgentView, pane: PaneInfo, command: str,
                                *, manual: bool) -> tuple[bool, str]:
        refusal = await self._unsafe_to_replace(pane, strict=not manual)
        if refusal:
            return False, f"not touched: {refusal}"
        try:
            start_dir = await self.actions.pane_path(pane.pane_id)
        except (PaneIOError, TimeoutError):
            start_dir = ""
        if not self.core.running:
            return False, "not touched: monitoring was stopped"
        try:
            opened = await self.actions.open_window(pane.session_id, pane.session, pane.window_name, start_dir,
                                                    command)
        except (PaneIOError, TimeoutError, ValueError) as exc:
            return False, f"could not open a new window in {pane.session}: {exc}"
        where = f"{pane.session}:{opened.window_index} ({opened.pane_id})"
        log.info("%s: started %r in new window %s", view.target, command, where)
        new_pane = replace(pane, pane_id=opened.pane_id, window_index=opened.window_index, pane_index=0,
                           pane_pid=opened.pane_pid, dead=False)
        deadline = time.monotonic() + self.settings.starting_after
        while time.monotonic() < deadline:
            table = await asyncio.to_thread(self.core.read_processes, [new_pane.pane_pid])
            facts = find_agent(new_pane, table, self.core.catalog.patterns)
            if facts.agent_pid is not None:
                await self._close_pane(view, pane, "the crashed pane")  # only now: keep the evidence until then
                for hook in self.on_recovered:
                    hook(view, opened.pane_id)
                return True, f"{facts.kind} running again as pid {facts.agent_pid} in {where}"
            await asyncio.sleep(0.5)
        await self._close_pane(view, new_pane, "the new window, whose agent never started")
        return False, (f"{command!r} did not start an agent program in {where} within "
                       f"{self.settings.starting_after:g}s; the crashed pane was left as it was")

    async def _unsafe_to_replace(self, pane: PaneInfo, *, strict: bool) -> str:
        """Why this pane must not be replaced now ("" when it may): fresh process facts decide.

        ``strict`` (automatic recovery) also wants positive evidence of a crash: the pane is dead or a
        shell is back in its foreground. Anything else there (ssh, an editor, a container) is left alone.
        """
        table = await asyncio.to_thread(self.core.read_processes, [pane.pane_pid])
        if not pane.dead and table.get(pane.pane_pid) is None:
            return f"the pane's process {pane.pane_pid} is not in /proc (cannot read process facts)"
        facts = find_agent(pane, table, self.core.catalog.patterns)
        if facts.agent_pid is not None:
            return f"its agent program is running (pid {facts.agent_pid})"
        if strict and not (pane.dead or facts.shell_in_foreground):
            running = ", ".join(facts.commands) or "an unknown program"
            return f"no shell in its foreground ({running}): not a crash to repair automatically"
        if not self.core.running:
            return "monitoring was stopped"
        return ""

    async def _close_pane(self, view: AgentView, pane: PaneInfo, what: str) -> None:
        """Kill ``pane`` if it is still the same pane (same pid) and still holds no agent program."""
        try:
            pid = await self.actions.pane_pid(pane.pane_id)
        except (PaneIOError, TimeoutError):
            return
        if pid is None:
            return  # already gone
        if pid != pane.pane_pid:
            log.warning("%s: %s is another pane now (pid %s); leaving it alone", view.target, pane.pane_id, pid)
            return
        refusal = await self._unsafe_to_replace(pane, strict=False)
        if refusal:
            log.warning("%s: leaving %s: %s", view.target, what, refusal)
            return
        try:
            await self.actions.kill_pane(pane.pane_id)
            log.info("%s: closed %s (%s)", view.target, what, pane.pane_id)
        except (PaneIOError, TimeoutError, ValueError) as exc:
            log.warning("%s: could not close %s %s: %s", view.target, what, pane.pane_id, exc)

    def cancel_all(self) -> None:
        """Stop every recovery in progress (Stop(): no agent is touched while stopped)."""
        for task in list(self.tasks.values()):
            task.cancel()

    async def aclose(self) -> None:
        """Cancel every recovery in progress and wait for them to finish."""
        for task in list(self.tasks.values()):
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
