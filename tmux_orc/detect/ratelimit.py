"""When a usage/rate limit resets, read from the agent's own message.

Understands wall-clock times (``resets 3am``, ``reset at 5pm (America/New_York)``, ``resets at 17:00``,
``resets Oct 9, 2pm``), relative times (``try again in 2 days 3 hours``, ``Retrying in 20s``) and
Claude's machine form ``usage limit reached|1723456789``. Named zones go through :mod:`zoneinfo`;
without a zone the time is local (or the ``tz`` given).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_ALIASES = {"utc": "UTC", "gmt": "UTC", "z": "UTC"}

_EPOCH = re.compile(r"limit reached\|(?P<epoch>\d{10})\b", re.IGNORECASE)
_CLOCK = re.compile(
    r"\bresets?\b(?:\s+at)?\s+"
    r"(?:(?P<month>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?P<day>\d{1,2})"
    r"(?:st|nd|rd|th)?,?\s+(?:at\s+)?)?"
    r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<ampm>[ap]\.?m\.?)?"
    r"(?:\s*\((?P<zone>[A-Za-z][A-Za-z0-9_+\-/]{0,40})\))?",
    re.IGNORECASE,
)
_RELATIVE = re.compile(
    r"\b(?:try again|retry(?:ing)?|resets?|available again)\s+in\s+"
    r"(?P<span>\d+(?:\.\d+)?\s*[a-z]+(?:[\s,]+(?:and\s+)?\d+(?:\.\d+)?\s*[a-z]+){0,4})",
    re.IGNORECASE,
)
_SPAN_PART = re.compile(r"(?<![\d.])(\d++(?:\.\d++)?)\s*+([a-z]++)", re.IGNORECASE)
_UNIT_SECONDS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


@dataclass(frozen=True, slots=True)
class ResetTime:
    """A reset moment and how the message put it."""

    at: float  # unix time
    text: str  # the words it was read from, e.g. "resets 3am (Europe/Paris)"
    zone: str = ""  # the zone name used, "" for local time

    def describe(self, tz: tzinfo | None = None) -> str:
        """``2025-08-11 17:00 EDT (America/New_York)``-style words for a detail string."""
        zone = _zone(self.zone) if self.zone else None
        when = datetime.fromtimestamp(self.at, zone or tz or _local())
        label = f" ({self.zone})" if self.zone else ""
        return f"{when:%Y-%m-%d %H:%M %Z}".rstrip() + label


def _local() -> tzinfo:
    local = datetime.now().astimezone().tzinfo
    return local if local is not None else ZoneInfo("UTC")


def _zone(name: str) -> tzinfo | None:
    name = _ALIASES.get(name.lower(), name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _clock(match: re.Match[str], now: float, tz: tzinfo | None) -> ResetTime | None:
    hour = int(match.group("hour"))
    minute = int(match.group("minute") or 0)
    ampm = (match.group("ampm") or "").replace(".", "").lower()
    if not ampm and match.group("minute") is None:
        return None  # a bare number ("resets 3") is not a time
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    zone_name = match.group("zone") or ""
    zone = _zone(zone_name) if zone_name else None
    if zone is None:
        zone_name = ""
    base = datetime.fromtimestamp(now, zone or tz or _local())
    month = match.group("month")
    try:
        if month:
            when = base.replace(
                month=_MONTHS.index(month[:3].lower()) + 1,
                day=int(match.group("day")),
                hour=hour,
                minute=minute,
                second=0,
                microsecond=0,
            )
            if when < base - timedelta(days=1):
                when = when.replace(year=when.year + 1)
        else:
            when = base.replace(hour=hour, minute=minute, second=0, microsecond=0)
            if when <= base:
                when += timedelta(days=1)
    except ValueError:  # "Feb 30"
        return None
    return ResetTime(at=when.timestamp(), text=match.group(0).strip(), zone=zone_name)


def _relative(match: re.Match[str], now: float) -> ResetTime | None:
    total = 0.0
    for amount, unit in _SPAN_PART.findall(match.group("span")):
        scale = _UNIT_SECONDS.get(unit[0].lower())
        if scale is None or unit.lower().startswith("ms"):
            return None
        total += float(amount) * scale
    if total <= 0 or total > 366 * 86400:
        return None
    return ResetTime(at=now + total, text=match.group(0).strip())


def parse_reset(text: str, now: float, tz: tzinfo | None = None) -> ResetTime | None:
    """The first reset time stated in ``text``, as the next such moment after ``now``."""
    text = text[:4000]
    epoch = _EPOCH.search(text)
    if epoch is not None:
        return ResetTime(at=float(epoch.group("epoch")), text=epoch.group(0))
    for match in _CLOCK.finditer(text):
        found = _clock(match, now, tz)
        if found is not None:
            return found
    relative = _RELATIVE.search(text)
    return _relative(relative, now) if relative is not None else None
