"""Delivers what the NotificationManager decides: the Alert event, desktop notification, PM's pane.

The manager is pure; this is its acting side, run once per cycle, through ports the core owns (pane
actions for the PM's pane, a desktop sink). A message reaches a PM's pane only when its prompt is empty
(what someone typed is never touched), and is checked as submitted on later cycles.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from tmux_orc.core.alerts import Alert, AlertBatch, NotificationManager, render_pm_message
from tmux_orc.core.delivery import DeliveryRefused, Step, Submission, deliver
from tmux_orc.core.events import AgentUpdated, AlertRaised, Event, RolloutStageChanged
from tmux_orc.core.monitor import CycleReport, MonitorCore
from tmux_orc.core.outbox import ChannelSink, Outbox
from tmux_orc.core.ports import Clock, PaneActions, PaneIOError
from tmux_orc.core.rollout import RolloutCause
from tmux_orc.core.tracker import AgentSnapshot
from tmux_orc.model import AgentView, AlertKind, State

log = logging.getLogger(__name__)

MAX_DESKTOP_IN_FLIGHT = 16
NOTE_TTL = 600.0  # a note not deliverable within this many seconds is dropped


class Desktop(Protocol):
    """A desktop notification service (the port the service layer implements)."""

    async def available(self) -> bool:
        """Is a notification server there to show it?"""
        ...

    async def notify(self, severity: str, summary: str, body: str, target: str) -> None:
        """Show one alert."""
        ...


class AlertDispatcher:
    """Turns the manager's alerts into the Alert event, desktop notifications and PM-pane messages."""

    def __init__(
        self,
        core: MonitorCore,
        manager: NotificationManager,
        actions: PaneActions,
        desktop: Desktop | None,
        clock: Clock = time.time,
        channels: ChannelSink | None = None,
    ) -> None:
        self.core = core
        self.channels = channels  # Apprise URLs (service.channels); fed batches, never awaited
        self.outbox = Outbox()
        self.manager = manager
        self.actions = actions
        self.desktop = desktop
        self.clock = clock
        self.submissions: dict[str, Submission] = {}  # PM agent id -> message waiting to be submitted
        self._desktop_tasks: set[asyncio.Task[None]] = set()
        self.notes: dict[str, tuple[str, float]] = {}  # pane id -> (message, expires at)
        self.pm_delivered = 0
        self.pm_failed = 0
        self.desktop_skipped = 0

    # --- inputs ----------------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        """Hub listener: published state changes and rollout decisions become alerts."""
        if isinstance(event, AgentUpdated) and event.state_changed:
            self.manager.on_transition(event.new, event.old.state, event.new.state, self.clock())
        elif isinstance(event, RolloutStageChanged) and event.cause is not RolloutCause.OPERATOR:
            self.manager.add(Alert(AlertKind.ROLLOUT,
                                   "warning" if event.cause is RolloutCause.ROLLED_BACK else "info",
                                   f"rollout {event.old_stage} -> {event.new_stage}", event.reason, "", None, "",
                                   self.clock()))

    def alert(self, kind: AlertKind, agent: AgentView, body: str) -> None:
        """An alert from another component (recovery outcomes)."""
        self.manager.add(Alert.for_agent(kind, agent, self.clock(), body))

    def recovered(self, old: AgentView, new_pane_id: str) -> None:
        """After a recovery: a briefing for the new agent, and a note for the rest of its team."""
        now = self.clock()
        team = [v for v in self.core.tracker.views() if v.session == old.session and v.id != old.id]
        roster = "; ".join(f"{v.window} ({v.target}) {v.state}" for v in team) or "no other agents"
        self.notes[new_pane_id] = (
            f"[tmux-orc] You are the {old.role} of tmux session {old.session}, restarted after your previous "
            f"instance crashed at {time.strftime('%H:%M', time.localtime(old.state_since))}. Team: {roster}. "
            "Check on each agent and carry on coordinating the work.", now + NOTE_TTL)
        for view in team:
            self.notes[view.pane_id] = (
                f"[tmux-orc] FYI: the {old.role} of session {old.session} crashed and was restarted in a new "
                f"window ({old.window}); it may ask you for a status update.", now + NOTE_TTL)

    async def _deliver_notes(self) -> None:
        now = self.clock()
        if not self.notes:
            return
        by_pane = {r.pane.pane_id: r for r in self.core.tracker.snapshots()}
        for pane_id, (text, expires) in list(self.notes.items()):
            rec = by_pane.get(pane_id)
            if now > expires:
                del self.notes[pane_id]
                log.info("dropped an undelivered note for %s", rec.view.target if rec else pane_id)
                continue
            if rec is None or rec.view.state is not State.IDLE or rec.view.id in self.submissions:
                continue
            try:
                self.submissions[rec.view.id] = await self._deliver(rec, text)
            except (DeliveryRefused, PaneIOError, TimeoutError, ValueError) as exc:
                log.debug("note for %s not delivered yet: %s", rec.view.target, exc)
                continue
            del self.notes[pane_id]
            log.info("delivered a recovery note to %s", rec.view.target)

    async def _deliver(self, rec: AgentSnapshot, text: str) -> Submission:
        return await deliver(self.actions, rec.pane.pane_id, text, rec.screen, rec.view.kind, self.core.profiles)

    # --- the cycle -------------------------------------------------------------------------------
    async def on_cycle(self, report: CycleReport) -> None:
        """After each cycle: timed alerts, the drain, PM-pane messages and their follow-up."""
        now = self.clock()
        views = self.core.tracker.views()
        self.manager.tick(views, now)
        await self._follow_submissions()
        result = self.manager.drain(now)
        for alert in result.alerts:
            log.log(logging.WARNING if alert.severity != "info" else logging.INFO,
                    "alert [%s] %s: %s", alert.severity, alert.summary, alert.body)
            self.core.hub.emit(AlertRaised(alert.severity, alert.summary, alert.body, alert.target))
            self._to_desktop(alert)
        self._to_channels(result.alerts, now)
        for batch in result.batches:
            await self._to_pm(batch)
        await self._deliver_notes()

    def _to_channels(self, alerts: list[Alert], now: float) -> None:
        """Batched as for the PM's pane; handed to the channels' worker threads (no waiting here)."""
        if self.channels is None:
            return
        self.outbox.add(alerts)
        batch = self.outbox.take(now, self.core.settings.notify_batch_delay, self.manager.still_holds)
        if batch:
            self.channels.send(batch)

    def _to_desktop(self, alert: Alert) -> None:
        if self.desktop is None:
            return
        if len(self._desktop_tasks) >= MAX_DESKTOP_IN_FLIGHT:
            self.desktop_skipped += 1
            return
        task = asyncio.create_task(self._desktop_notify(self.desktop, alert))
        self._desktop_tasks.add(task)
        task.add_done_callback(self._desktop_tasks.discard)

    async def _desktop_notify(self, desktop: Desktop, alert: Alert) -> None:
        """Only when enabled in settings (re-read on reload) and a notification server is on the bus."""
        if not self.core.settings.desktop_notifications or not await desktop.available():
            self.desktop_skipped += 1
            return
        await desktop.notify(alert.severity, alert.summary, alert.body, alert.target)

    async def _to_pm(self, batch: AlertBatch) -> None:
        rec = self.core.tracker.snapshot(batch.recipient_agent_id)
        if rec is None or batch.recipient_agent_id in self.submissions:
            self.manager.requeue(batch)
            return
        text = render_pm_message(batch)
        try:
            submission = await self._deliver(rec, text)
        except DeliveryRefused as exc:
            log.info("holding %d alert(s) for %s: %s", len(batch.alerts), rec.view.target, exc)
            self.manager.requeue(batch)
            return
        except (PaneIOError, TimeoutError, ValueError) as exc:
            log.warning("could not deliver alerts to %s: %s", rec.view.target, exc)
            self.manager.requeue(batch)
            return
        log.info("delivered %d alert(s) to %s", len(batch.alerts), rec.view.target)
        self.submissions[batch.recipient_agent_id] = submission

    async def _follow_submissions(self) -> None:
        """Was each pasted message submitted? Press Enter again (bounded) when it still sits there."""
        for pm_id, submission in list(self.submissions.items()):
            rec = self.core.tracker.snapshot(pm_id)
            if rec is None:
                del self.submissions[pm_id]
                continue
            step = submission.check(rec.screen)
            if step is Step.DONE:
                self.pm_delivered += 1
                del self.submissions[pm_id]
            elif step is Step.FAILED:
                self.pm_failed += 1
                log.warning("alert message in %s was not submitted after %d Enter presses; left for a person",
                            rec.view.target, submission.enters)
                del self.submissions[pm_id]
            else:
                try:
                    await submission.retry_enter(self.actions)
                except (PaneIOError, TimeoutError, ValueError) as exc:
                    log.warning("could not press Enter in %s: %s", rec.view.target, exc)

    def counters(self) -> dict[str, int]:
        """Delivery counters for GetMetrics."""
        channels = self.channels.counters() if self.channels is not None else {}
        return {**self.manager.counters(), "pm_messages_submitted": self.pm_delivered,
                "pm_messages_unsubmitted": self.pm_failed, "desktop_skipped": self.desktop_skipped, **channels}

    async def aclose(self) -> None:
        """Cancel desktop notifications still in flight."""
        for task in list(self._desktop_tasks):
            task.cancel()
        await asyncio.gather(*self._desktop_tasks, return_exceptions=True)
