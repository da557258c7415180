"""NotificationManager on a fake clock: when alerts fire, dedupe, cooldown, batching, rendering."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from tmux_orc.config import load_settings
from tmux_orc.core.alerts import (
    Alert,
    AlertBatch,
    AlertKind,
    NotificationManager,
    render_pm_message,
    sanitize,
)
from tmux_orc.model import AgentView, Kind, Role, State

T0 = 1_000_000.0


def agent(name: str, state: State, since: float = T0, role: Role = Role.DEVELOPER, session: str = "proj",
          detail: str = "") -> AgentView:
    target = f"{session}:{name}.0"
    return AgentView(id=target, target=target, session=session, window=name,
                     pane_id=f"%{abs(hash(target)) % 999}", role=role, kind=Kind.CLAUDE, state=state,
                     state_since=since, detail=detail)


def pm(state: State = State.IDLE, session: str = "proj") -> AgentView:
    return agent("0", state, role=Role.PM, session=session)


def manager(**kw: float) -> NotificationManager:
    params = {"cooldown": 300.0, "waiting_after": 60.0, "idle_after": 600.0, "queue_max": 50} | kw
    return NotificationManager(params["cooldown"], params["waiting_after"], params["idle_after"],
                               int(params["queue_max"]))


def kinds(nm: NotificationManager, now: float) -> list[str]:
    return [a.kind for a in nm.drain(now).alerts]


def test_crash_alerts_at_once_and_once_per_episode() -> None:
    nm = manager()
    dev = agent("1", State.CRASHED, since=T0)
    nm.on_transition(dev, State.WORKING, State.CRASHED, T0)
    nm.tick([pm(), dev], T0 + 2)
    nm.tick([pm(), dev], T0 + 4)
    out = nm.drain(T0 + 4)
    assert [a.kind for a in out.alerts] == [AlertKind.CRASHED]
    alert = out.alerts[0]
    assert alert.severity == "critical" and alert.target == "proj:1.0" and alert.agent_id == "proj:1.0"
    assert alert.summary == "proj:1.0 (developer) crashed"
    assert kinds(nm, T0 + 1000) == []  # still the same episode, even after the cooldown


def test_recovered_when_crashed_agent_is_healthy_again_via_starting() -> None:
    nm = manager()
    nm.tick([agent("1", State.CRASHED)], T0)
    nm.tick([agent("1", State.STARTING, since=T0 + 5)], T0 + 5)
    nm.tick([agent("1", State.IDLE, since=T0 + 20)], T0 + 20)
    out = nm.drain(T0 + 20).alerts
    assert [a.kind for a in out] == [AlertKind.CRASHED, AlertKind.RECOVERED]
    assert out[1].severity == "info"


def test_cooldown_holds_back_a_new_episode_until_it_ends() -> None:
    nm = manager(cooldown=300)
    nm.tick([agent("1", State.STUCK)], T0)
    nm.tick([agent("1", State.WORKING)], T0 + 10)
    nm.tick([agent("1", State.STUCK, since=T0 + 20)], T0 + 20)
    assert kinds(nm, T0 + 20) == [AlertKind.STUCK]
    assert nm.counters()["alerts_deduped"] == 1
    nm.tick([agent("1", State.STUCK, since=T0 + 20)], T0 + 299)
    assert kinds(nm, T0 + 299) == []
    nm.tick([agent("1", State.STUCK, since=T0 + 20)], T0 + 300)  # still stuck when the cooldown ends
    assert kinds(nm, T0 + 300) == [AlertKind.STUCK]


def test_waiting_input_needs_time_in_state() -> None:
    nm = manager(waiting_after=60)
    waiting = agent("1", State.WAITING_INPUT, since=T0, detail="Do you want to proceed?")
    nm.on_transition(waiting, State.WORKING, State.WAITING_INPUT, T0)
    nm.tick([waiting], T0 + 59)
    assert kinds(nm, T0 + 59) == []
    nm.tick([waiting], T0 + 60)
    (alert,) = nm.drain(T0 + 60).alerts
    assert alert.kind == AlertKind.WAITING_INPUT and alert.severity == "warning"
    assert alert.body == "waiting for 1 min: Do you want to proceed?"


def test_idle_alert_skips_the_pm_and_team_idle_covers_members() -> None:
    nm = manager(idle_after=600)
    team = [pm(State.IDLE), agent("1", State.IDLE), agent("2", State.WORKING)]
    nm.tick(team, T0 + 600)
    assert kinds(nm, T0 + 600) == [AlertKind.IDLE]  # only the idle developer, never the PM
    team = [pm(State.IDLE), agent("1", State.IDLE), agent("2", State.IDLE, since=T0 + 100)]
    nm.tick(team, T0 + 700)
    assert kinds(nm, T0 + 700) == [AlertKind.TEAM_IDLE]  # member 2 is covered by the team alert
    nm.tick(team, T0 + 800)
    assert kinds(nm, T0 + 800) == []


def test_rate_limited_and_error_carry_detail() -> None:
    nm = manager()
    nm.tick([agent("1", State.RATE_LIMITED, detail="resets 3pm"),
             agent("2", State.ERROR, detail="API 529")], T0)
    bodies = {a.kind: a.body for a in nm.drain(T0).alerts}
    assert bodies == {AlertKind.RATE_LIMITED: "limit resets: resets 3pm", AlertKind.ERROR: "API 529"}


def test_batches_go_to_the_idle_pm_of_the_same_session_only() -> None:
    nm = manager()
    other_pm = pm(State.IDLE, session="other")
    nm.tick([pm(State.WORKING), agent("1", State.CRASHED), other_pm], T0)
    first = nm.drain(T0)
    assert len(first.alerts) == 1 and first.batches == []  # PM busy: held
    nm.tick([pm(State.IDLE), agent("1", State.CRASHED), other_pm], T0 + 2)
    second = nm.drain(T0 + 2)
    assert second.alerts == []  # the desktop/D-Bus channel got it once already
    (batch,) = second.batches
    assert batch.recipient_agent_id == "proj:0.0" and batch.session == "proj"
    assert [a.kind for a in batch.alerts] == [AlertKind.CRASHED]
    assert nm.drain(T0 + 4).batches == []


def test_held_alert_dropped_when_condition_ends_before_delivery() -> None:
    nm = manager()
    nm.tick([pm(State.WORKING), agent("1", State.STUCK)], T0)
    nm.drain(T0)
    nm.tick([pm(State.IDLE), agent("1", State.WORKING)], T0 + 2)
    assert nm.drain(T0 + 2).batches == []


def test_pm_alert_about_itself_goes_only_to_desktop() -> None:
    nm = manager()
    nm.tick([pm(State.CRASHED), agent("1", State.IDLE)], T0)
    out = nm.drain(T0)
    assert [a.kind for a in out.alerts] == [AlertKind.CRASHED] and out.batches == []


def test_requeue_keeps_the_batch_for_next_time() -> None:
    nm = manager()
    nm.tick([pm(), agent("1", State.CRASHED)], T0)
    (batch,) = nm.drain(T0).batches
    nm.requeue(batch)
    nm.tick([pm(), agent("1", State.CRASHED)], T0 + 2)
    assert nm.drain(T0 + 2).batches == [batch]


def test_queue_is_bounded_and_drops_least_severe_first() -> None:
    nm = manager(queue_max=3)
    team = [agent(str(i), State.IDLE) for i in range(3)] + [agent("9", State.CRASHED)]
    team[1] = replace(team[1], state=State.WORKING)
    nm.tick(team, T0 + 600)  # 2 idle (info) + 1 crashed (critical)
    nm.tick([*team, agent("8", State.STUCK)], T0 + 601)
    out = nm.drain(T0 + 601).alerts
    assert len(out) == 3 and nm.dropped == 1
    assert {a.kind for a in out} == {AlertKind.IDLE, AlertKind.CRASHED, AlertKind.STUCK}


def test_external_alerts_and_cooldown() -> None:
    nm = manager(cooldown=300)
    dev = agent("1", State.IDLE)
    assert nm.add(Alert.for_agent(AlertKind.RECOVERED, dev, T0))
    assert not nm.add(Alert.for_agent(AlertKind.RECOVERED, dev, T0 + 10))
    assert nm.add(Alert.for_agent(AlertKind.RECOVERY_FAILED, dev, T0 + 10, "spawn failed"))
    assert nm.add(Alert.for_agent(AlertKind.RECOVERY_FAILED, dev, T0 + 11, "spawn failed"))  # never held back
    assert len(nm.drain(T0 + 11).alerts) == 3
    counts = nm.counters()
    assert counts["alerts_raised"] == 3 and counts["alerts_sent"] == 3 and counts["alerts_deduped"] == 1


def test_memory_survives_restart_without_duplicates() -> None:
    nm = manager(cooldown=300)
    team = [pm(), agent("1", State.CRASHED)]
    nm.tick(team, T0)
    assert kinds(nm, T0) == [AlertKind.CRASHED]
    restarted = manager(cooldown=300)
    restarted.restore(nm.memory())
    restarted.tick(team, T0 + 30)
    assert kinds(restarted, T0 + 30) == []
    restarted.tick(team, T0 + 300)
    assert kinds(restarted, T0 + 300) == [AlertKind.CRASHED]  # still crashed after the cooldown


def test_vanished_agent_ends_its_episodes() -> None:
    nm = manager(cooldown=0)
    nm.tick([agent("1", State.CRASHED)], T0)
    nm.tick([], T0 + 1)
    nm.tick([agent("1", State.CRASHED, since=T0 + 2)], T0 + 2)
    assert kinds(nm, T0 + 2) == [AlertKind.CRASHED, AlertKind.CRASHED]


def test_from_settings() -> None:
    nm = NotificationManager.from_settings(load_settings(alert_cooldown=5, idle_alert_after=7, alert_queue_max=9))
    assert (nm.cooldown, nm.idle_after, nm.queue_max) == (5, 7, 9)


def test_render_pm_message_is_one_sanitized_line() -> None:
    nasty = agent("1", State.ERROR, detail="\x1b[31mboom\x1b[0m\nline2\r\u202eevil\x07")
    alerts = (Alert.for_agent(AlertKind.CRASHED, agent("2", State.CRASHED), T0),
              Alert.for_agent(AlertKind.ERROR, nasty, T0))
    text = render_pm_message(AlertBatch("proj:0.0", "%1", "proj", alerts))
    assert text.startswith("[tmux-orc] 2 alerts for session proj: ")
    assert "proj:2.0 (developer) crashed | proj:1.0 (developer) stopped on an error: boom line2 evil" in text
    assert all(c.isprintable() for c in text)


def test_render_pm_message_is_bounded() -> None:
    alerts = tuple(Alert.for_agent(AlertKind.IDLE, agent(str(i), State.IDLE, detail="x" * 300), T0)
                   for i in range(40))
    text = render_pm_message(AlertBatch("proj:0.0", "%1", "proj", alerts))
    assert len(text) <= 1000 and text.endswith("more: tmux-orc agents)")


@given(st.text(max_size=500), st.integers(min_value=1, max_value=300))
def test_sanitize_never_returns_control_characters(text: str, limit: int) -> None:
    out = sanitize(text, limit)
    assert len(out) <= limit
    assert "\n" not in out and "\x1b" not in out
    assert all(c.isprintable() or c == " " for c in out)
