"""AutoResumer: when a rate-limited agent is resumed, without tmux or a clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from tmux_orc.core.autoresume import AutoResumer, reset_time, wanted
from tmux_orc.detect.ratelimit import parse_reset
from tmux_orc.model import AgentView, Kind, Role, State

NOW = datetime(2026, 12, 1, 9, 58, 30, tzinfo=UTC).timestamp()
RESET = datetime(2026, 12, 1, 10, 0, tzinfo=UTC).timestamp()
LINE = "⎿  5-hour limit reached ∙ resets 10am (UTC)"


def limited(since: float = NOW, detail: str = "") -> AgentView:
    reset = parse_reset(LINE, since)
    assert reset is not None
    detail = detail or f"5-hour limit reached ∙ resets 10am (UTC); resets {reset.describe()}"
    return AgentView("team:1.0", "team:1.0", "team", "Claude-developer", "%2", Role.DEVELOPER, Kind.CLAUDE,
                     State.RATE_LIMITED, since, detail)


def test_reset_time_is_read_from_the_detail_the_engine_wrote() -> None:
    agent = limited()
    assert agent.detail.endswith("resets 2026-12-01 10:00 UTC (UTC)")
    assert reset_time(agent.detail, (LINE,), NOW) == RESET
    assert reset_time("Rate limit reached", (), NOW) is None


def test_seconds_come_from_the_limit_words_when_they_agree_with_the_minute() -> None:
    epoch = RESET + 42
    line = f"Claude AI usage limit reached|{int(epoch)}"
    detail = f"Claude AI usage limit reached; resets {datetime.fromtimestamp(epoch, UTC):%Y-%m-%d %H:%M} UTC (UTC)"
    assert reset_time(detail, (line,), NOW) == epoch
    # evidence saying something else than the detail: the detail's minute wins
    assert reset_time(detail, ("resets 3pm (UTC)",), NOW) == RESET


def test_nothing_before_the_reset_plus_margin_then_once() -> None:
    resumer = AutoResumer(margin=5.0)
    agent = limited()

    def due(now: float) -> bool:
        return resumer.due(agent, lambda: RESET, now, enabled=True)

    assert not due(NOW)
    assert not due(RESET)
    assert not due(RESET + 4.9)
    assert resumer.explain(agent.id) == {"auto_resume": "waiting for the limit to reset", "auto_resume_at": RESET + 5}
    assert due(RESET + 5.0)
    resumer.sent(agent.id, RESET + 5.0)
    assert not due(RESET + 6.0)
    assert resumer.count == 1
    assert resumer.explain(agent.id)["auto_resume"] == "resume message sent"


def test_at_most_once_per_limit_even_when_limited_again() -> None:
    resumer = AutoResumer(margin=0.0)
    first = limited()
    assert resumer.due(first, lambda: RESET, RESET + 1, enabled=True)
    resumer.sent(first.id, RESET + 1)
    again = replace(first, state_since=RESET + 10)  # resumed, limited again with the same reset time
    assert not resumer.due(again, lambda: RESET, RESET + 20, enabled=True)
    assert "already resumed once" in resumer.explain(again.id)["auto_resume"]
    later = replace(first, state_since=RESET + 3600)  # a new limit, resetting later
    assert resumer.due(later, lambda: RESET + 7200, RESET + 7200, enabled=True)


def test_held_and_unknown_and_off() -> None:
    resumer = AutoResumer(margin=0.0)
    agent = limited()
    assert not resumer.due(agent, lambda: None, RESET + 100, enabled=True)
    assert resumer.explain(agent.id) == {"auto_resume": "reset time unknown: not resuming", "auto_resume_at": 0.0}
    other = replace(agent, id="team:2.0", state_since=NOW + 1)
    assert not resumer.due(other, lambda: RESET, RESET + 100, enabled=False)
    assert resumer.explain("team:2.0")["auto_resume"] == "off for role developer (auto_resume)"
    third = replace(agent, id="team:3.0")
    assert resumer.due(third, lambda: RESET, RESET + 1, enabled=True)
    resumer.held(third.id, "the prompt is not empty")
    assert resumer.explain(third.id)["auto_resume"] == "due, held: the prompt is not empty"
    assert resumer.due(third, lambda: RESET, RESET + 2, enabled=True)  # tried again next cycle


def test_a_limit_that_ended_is_forgotten() -> None:
    resumer = AutoResumer(margin=0.0)
    agent = limited()
    asks = []
    assert not resumer.due(agent, lambda: asks.append(1) or RESET, NOW, enabled=True)  # type: ignore[func-returns-value]
    assert not resumer.due(agent, lambda: asks.append(1) or RESET, NOW + 1, enabled=True)  # type: ignore[func-returns-value]
    assert len(asks) == 1  # the reset time is read once per limit
    assert not resumer.due(replace(agent, state=State.WORKING), lambda: RESET, RESET + 1, enabled=True)
    assert resumer.explain(agent.id)["auto_resume"] == ""
    resumer.forget([])
    assert resumer.plans == {}


def test_wanted_by_role() -> None:
    assert wanted(True, Role.PM) and not wanted(False, Role.QA)
    assert wanted([Role.DEVELOPER, Role.QA], Role.QA) and not wanted([Role.DEVELOPER], Role.PM)
