"""parse_reset: reset times as the agents word them, with named zones."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tmux_orc.detect.ratelimit import parse_reset

NOW = datetime(2025, 8, 11, 12, 0, tzinfo=UTC).timestamp()  # 08:00 in New York, 14:00 in Paris


def at(text: str, tz: str = "UTC") -> datetime:
    found = parse_reset(text, NOW, ZoneInfo("UTC"))
    assert found is not None, text
    return datetime.fromtimestamp(found.at, ZoneInfo(tz))


def test_named_zone_later_today() -> None:
    when = at("Claude usage limit reached. Your limit will reset at 5pm (America/New_York).", "America/New_York")
    assert (when.day, when.hour, when.minute) == (11, 17, 0)


def test_named_zone_already_past_means_tomorrow() -> None:
    when = at("5-hour limit reached ∙ resets 3am (Europe/Paris)", "Europe/Paris")
    assert (when.day, when.hour) == (12, 3)


def test_no_zone_uses_the_given_tz() -> None:
    when = at("resets 1pm")
    assert (when.day, when.hour) == (11, 13)


def test_24_hour_clock_and_date() -> None:
    assert at("limit resets at 17:30").hour == 17
    when = at("Weekly limit reached ∙ resets Oct 9, 2pm (UTC)")
    assert (when.month, when.day, when.hour) == (10, 9, 14)


def test_relative_and_epoch() -> None:
    found = parse_reset("You've hit your usage limit. Try again in 2 days 3 hours 5 minutes.", NOW)
    assert found is not None and found.at == NOW + 2 * 86400 + 3 * 3600 + 300
    found = parse_reset("Claude AI usage limit reached|1754924400", NOW)
    assert found is not None and found.at == 1754924400


def test_describe_names_the_zone() -> None:
    found = parse_reset("resets 3am (Europe/Paris)", NOW)
    assert found is not None
    assert found.describe() == "2025-08-12 03:00 CEST (Europe/Paris)"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no limit here",
        "resets 3",
        "reset at 25pm",
        "resets Feb 30, 1pm",
        "try again in 0 seconds",
        "resets 5pm (Not/AZone)",
    ],
)
def test_nothing_or_nonsense(text: str) -> None:
    found = parse_reset(text, NOW, ZoneInfo("UTC"))
    if text.endswith("(Not/AZone)"):  # an unknown zone falls back to the given tz
        assert found is not None and found.zone == ""
    else:
        assert found is None
