"""Logging to journald (stderr with <N> priority prefixes), JSON lines, or plain text."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

# syslog priorities by Python level
_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


class JournalFormatter(logging.Formatter):
    """``<6>message`` per line: systemd's SyslogLevelPrefix= turns the prefix into PRIORITY=."""

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record, every line prefixed with its syslog priority."""
        priority = _PRIORITY.get(record.levelno, 6)
        text = super().format(record)
        return "\n".join(f"<{priority}>{line}" for line in text.splitlines() or [""])


def setup_logging(fmt: str, level: str = "info", stream: TextIO | None = None) -> None:
    """Send all logging to ``stream`` (default stderr) at ``level``, as ``journal``, ``json`` or plain lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if fmt == "journal":
        handler.setFormatter(JournalFormatter("%(message)s"))
    elif fmt == "json":
        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "asctime": "time"},
            static_fields={"service": "tmux-orc"},
        ))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("dbus_fast").setLevel(logging.WARNING)
