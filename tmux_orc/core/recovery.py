"""PMRecoveryManager: carries out what the recovery policy decides, through the tmux server.

A recovery re-checks the process facts right before acting (a healthy agent is never touched), starts
the spawn command in a new window of the same session via the tmux server (so the agent is never the
daemon's child), removes the crashed pane, and waits until the agent program runs under the new pane.
The outcome is reported as ``RecoveryFinished`` and as an alert.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

from tmux_orc.config import Settings
from tmux_orc.core.alerts import AlertKind
from tmux_orc.core.errors import Busy, Failed, InvalidArgument, NotFound
from tmux_orc.core.events import RecoveryFinished
from tmux_orc.core.monitor import CycleReport, MonitorCore
from tmux_orc.core.recovery_policy import Action, RecoveryPolicy, Refusal, recovery_key
from tmux_orc.core.tracker import AgentRecord
from tmux_orc.detect.process import find_agent
from tmux_orc.model import AgentView, PaneInfo, Role, State
from tmux_orc.procfs import read_process_table
from tmux_orc.tmux import commands as tmux_commands
from tmux_orc.tmux.runner import TmuxError, run_tmux

log = logging.getLogger(__name__)

RunTmux = Callable[..., Awaitable[str]]
RecoveredHook = Callable[[AgentView, str], None]  # (crashed agent, new pane id)
AlertSink = Callable[[AlertKind, AgentView, str], None]
OPTION_TYPES = {"command": str}


def policy_from_settings(settings: Settings) -> RecoveryPolicy:
    return RecoveryPolicy(
        confirmations=settings.recovery_confirmations,
        grace=settings.recovery_grace,
        cooldown=settings.recovery_cooldown,
        max_attempts=settings.recovery_max_attempts,
        auto_recover_pm=settings.auto_recover_pm,
    )


class RecoveryManager:
    def __init__(
        self,
        core: MonitorCore,
        policy: RecoveryPolicy,
        run: RunTmux = run_tmux,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.core = core
        self.policy = policy
        self.run = run
        self.clock = clock
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.on_recovered: list[RecoveredHook] = []
        self.alert: AlertSink = lambda kind, agent, body: None
        self.started = 0
        self.succeeded = 0
        self.failed = 0

    @property
    def settings(self) -> Settings:
        return self.core.settings

    # --- requests --------------------------------------------------------------------------------
    def request(self, target: str, options: Mapping[str, Any]) -> str:
        """A client's Recover(): validate, start at once, return the recovery id."""
        for key, value in options.items():
            if key not in OPTION_TYPES:
                raise InvalidArgument(f"unknown option {key!r}: allowed are {', '.join(OPTION_TYPES)}")
            if not isinstance(value, OPTION_TYPES[key]) or not str(value).strip():
                raise InvalidArgument(f"option {key!r} must be a non-empty string")
        rec = self.core.tracker.find(target)
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
        for rec in list(self.core.tracker.records.values()):
            view = rec.view
            present.add(recovery_key(view))
            self.policy.note_state(view, now)
            if view.role is not Role.PM or view.state is not State.CRASHED:
                continue
            if not (rec.pane.dead or rec.facts.shell_in_foreground):
                continue  # no agent, but no shell either (ssh, an editor...): shown as crashed, never replaced
            if now - view.state_since < self.settings.recovery_confirmations * self.settings.interval:
                continue  # confirmations are counted in time too, so extra cycles cannot shorten them
            observed = rec.observation.verdict.state if rec.observation else None
            streak = rec.debouncer.streak() if observed is State.CRASHED else 0
            decision = self.policy.decide(view, streak, now)
            if decision.action is Action.RECOVER:
                log.warning("%s: PM crashed (%s); %s", view.target, view.detail, decision.reason)
                self._start(rec, None, manual=False)
            elif decision.action is Action.GIVE_UP:
                log.error("%s: %s; giving up", view.target, decision.reason)
                self.alert(AlertKind.CRASH_LOOP, view,
                           f"{decision.reason}. Automatic recovery stopped; bring it back by hand "
                           f"(`tmux-orc monitor recover {view.target}`).")
        self.policy.forget_missing(present | {k for k, t in self.tasks.items() if not t.done()})

    # --- the recovery itself ---------------------------------------------------------------------
    def _start(self, rec: AgentRecord, command: str | None, *, manual: bool) -> str:
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
            ok, detail = await self._spawn_and_verify(view, pane, command or self.settings.pm_spawn_command,
                                                      manual=manual)
        except asyncio.CancelledError:
            self.policy.record_outcome(key, False, self.clock(), "cancelled")
            self.core.hub.emit(RecoveryFinished(rid, view.target, False,
                                                "cancelled: monitoring stopped or the daemon is stopping"))
            raise
        except Exception as exc:  # report every failure as an outcome, never as a silent dead task
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
        socket, timeout = self.settings.tmux_socket, self.settings.command_timeout
        try:
            start_dir = tmux_commands.one_value(await self.run(
                *tmux_commands.display_value(pane.pane_id, "pane_current_path"), socket=socket, timeout=timeout))
        except (TmuxError, TimeoutError):
            start_dir = ""
        args = tmux_commands.new_window(pane.session_id, pane.session, pane.window_name, start_dir,
                                        f"{command}; exec \"${{SHELL:-/bin/sh}}\"")
        if not self.core.running:
            return False, "not touched: monitoring was stopped"
        try:
            out = await self.run(*args, socket=socket, timeout=timeout)
        except (TmuxError, TimeoutError) as exc:
            return False, f"could not open a new window in {pane.session}: {exc}"
        new_pane_id, new_pid, new_index = [*out.split(), "", "", ""][:3]
        where = f"{pane.session}:{new_index} ({new_pane_id})"
        log.info("%s: started %r in new window %s", view.target, command, where)
        new_pane = replace(pane, pane_id=new_pane_id, window_index=int(new_index or 0), pane_index=0,
                           pane_pid=int(new_pid or 0), dead=False)
        deadline = time.monotonic() + self.settings.starting_after
        while time.monotonic() < deadline:
            facts = find_agent(new_pane, await asyncio.to_thread(read_process_table))
            if facts.agent_pid is not None:
                await self._close_pane(view, pane, "the crashed pane")  # only now: keep the evidence until then
                for hook in self.on_recovered:
                    hook(view, new_pane_id)
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
        table = await asyncio.to_thread(read_process_table)
        if not pane.dead and table.get(pane.pane_pid) is None:
            return f"the pane's process {pane.pane_pid} is not in /proc (cannot read process facts)"
        facts = find_agent(pane, table)
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
        socket, timeout = self.settings.tmux_socket, self.settings.command_timeout
        try:
            pid = (await self.run(*tmux_commands.display_value(pane.pane_id, "pane_pid"),
                                  socket=socket, timeout=timeout)).strip()
        except (TmuxError, TimeoutError):
            return  # already gone
        if pid != str(pane.pane_pid):
            log.warning("%s: %s is another pane now (pid %s); leaving it alone", view.target, pane.pane_id, pid)
            return
        refusal = await self._unsafe_to_replace(pane, strict=False)
        if refusal:
            log.warning("%s: leaving %s: %s", view.target, what, refusal)
            return
        try:
            await self.run(*tmux_commands.kill_pane(pane.pane_id), socket=socket, timeout=timeout)
            log.info("%s: closed %s (%s)", view.target, what, pane.pane_id)
        except (TmuxError, TimeoutError) as exc:
            log.warning("%s: could not close %s %s: %s", view.target, what, pane.pane_id, exc)

    def cancel_all(self) -> None:
        """Stop every recovery in progress (Stop(): no agent is touched while stopped)."""
        for task in list(self.tasks.values()):
            task.cancel()

    async def aclose(self) -> None:
        for task in list(self.tasks.values()):
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
