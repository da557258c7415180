"""Channel routing and batching (pure), and the settings that feed them."""

from __future__ import annotations

from tmux_orc.core.alerts import Alert
from tmux_orc.core.outbox import Outbox, Route, render_message
from tmux_orc.model import AlertKind

T0 = 1_800_000_000.0


def alert(kind: AlertKind, severity: str, target: str = "team:1.0", at: float = T0) -> Alert:
    return Alert(kind, severity, f"{target} (developer) {kind}", "detail", target, target, "team", at)  # type: ignore[arg-type]


def test_route_without_tags_takes_the_minimum_severity() -> None:
    route = Route.from_tags(set(), "warning")
    assert route.accepts(alert(AlertKind.CRASHED, "critical"))
    assert route.accepts(alert(AlertKind.STUCK, "warning"))
    assert not route.accepts(alert(AlertKind.IDLE, "info"))


def test_route_tags_severity_and_kinds() -> None:
    critical = Route.from_tags({"critical"}, "info")
    assert critical.accepts(alert(AlertKind.CRASHED, "critical"))
    assert not critical.accepts(alert(AlertKind.STUCK, "warning"))
    kinds = Route.from_tags({"crashed", "auto_resumed"}, "critical")
    assert kinds.accepts(alert(AlertKind.AUTO_RESUMED, "info"))  # named kinds: whatever their severity
    assert not kinds.accepts(alert(AlertKind.STUCK, "warning"))
    both = Route.from_tags({"warning", "rate_limited", "auto_resumed"}, "info")
    assert both.accepts(alert(AlertKind.RATE_LIMITED, "warning"))
    assert not both.accepts(alert(AlertKind.AUTO_RESUMED, "info"))


def test_batch_waits_for_the_delay_keeps_the_latest_and_puts_the_worst_first() -> None:
    box = Outbox()
    box.add([alert(AlertKind.STUCK, "warning", at=T0)])
    assert box.take(T0 + 1, 5.0, lambda a: True) == []
    box.add([alert(AlertKind.CRASHED, "critical", "team:2.0", at=T0 + 2),
             alert(AlertKind.STUCK, "warning", at=T0 + 3)])  # same agent and kind: the latest stays
    batch = box.take(T0 + 5, 5.0, lambda a: True)
    assert [(a.kind, a.at) for a in batch] == [(AlertKind.CRASHED, T0 + 2), (AlertKind.STUCK, T0 + 3)]
    assert box.pending() == 0 and box.take(T0 + 100, 5.0, lambda a: True) == []


def test_an_alert_whose_condition_ended_is_dropped() -> None:
    box = Outbox()
    box.add([alert(AlertKind.WAITING_INPUT, "warning"), alert(AlertKind.CRASHED, "critical", "team:2.0")])
    batch = box.take(T0 + 10, 5.0, lambda a: a.kind != AlertKind.WAITING_INPUT)
    assert [a.kind for a in batch] == [AlertKind.CRASHED] and box.dropped == 1


def test_message_for_one_and_for_many() -> None:
    one = render_message([alert(AlertKind.CRASHED, "critical")])
    assert one.title == "tmux-orc: team:1.0 (developer) crashed" and one.severity == "critical"
    assert one.body == "[critical] team:1.0 (developer) crashed: detail"
    many = render_message([alert(AlertKind.CRASHED, "critical"), alert(AlertKind.STUCK, "warning", "team:2.0")])
    assert many.title == "tmux-orc: 2 alerts, 1 critical" and len(many.body.splitlines()) == 2
