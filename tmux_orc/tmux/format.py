"""The one ``list-panes -a`` format the monitor uses, and its parser. Shared by every strategy.

One pane per line, fields split by ``SEP``. tmux prints names raw: a window made with ``new-window -n``
and ``pane_current_command`` (argv[0] of the pane's foreground process, which any program sets with
``exec -a``) may hold newlines and ``SEP``, and ``#{q:...}`` does not escape either. So every text
field is printed through tmux's own substitution (``#{s/%/%25/;s/\\n/%0A/;s/\\x1f/%1F/:...}``, tmux
3.1+): a value can never end its row, add a field, or start a line of its own (which in control mode
could also pass for a ``%end``). :func:`decode_field` undoes it exactly.
"""

from __future__ import annotations

import logging
import re
import time

from tmux_orc.model import PaneInfo

log = logging.getLogger(__name__)

SEP = "\x1f"  # ASCII unit separator between fields; escaped inside every text field
ESCAPES = (("%", "%25"), ("\n", "%0A"), (SEP, "%1F"))  # in this order: the escape character first
_DECODE = {code: char for char, code in ESCAPES}
_ESCAPED = re.compile("|".join(re.escape(code) for _, code in ESCAPES))
TEXT_FIELDS = frozenset({"pane_current_command", "session_name", "window_name", "pane_title"})

_FIELDS = (
    "pane_id",
    "pane_pid",
    "pane_dead",
    "pane_dead_status",
    "window_index",
    "pane_index",
    "pane_width",
    "pane_height",
    "window_activity",
    "pane_in_mode",
    "session_id",
    "window_id",
    "pane_current_command",
    "session_name",
    "window_name",
    "pane_title",
)
_PANE_ID = re.compile(r"%\d+")
_OPTIONAL_ID = re.compile(r"(?:[$@]\d+)?")
_WARN_EVERY = 600.0  # seconds between warnings about rows that do not parse (debug in between)
_last_warning = -_WARN_EVERY


def escaped_field(name: str) -> str:
    """The format printing variable ``name`` with the separators and ``%`` escaped, by tmux itself."""
    subs = ";".join(f"s/{char}/{code}/" for char, code in ESCAPES)  # each a literal in a POSIX ERE
    return f"#{{{subs}:{name}}}"


def field_format(name: str) -> str:
    """How the listing prints one field: text fields escaped, ids and numbers plain."""
    return escaped_field(name) if name in TEXT_FIELDS else f"#{{{name}}}"


def decode_field(text: str) -> str:
    """A text field as tmux holds it (the inverse of :func:`escaped_field`)."""
    return _ESCAPED.sub(lambda m: _DECODE[m.group()], text) if "%" in text else text


def encode_field(text: str) -> str:
    """What tmux prints for a text field holding ``text`` (for tests and tools that fake a listing)."""
    for char, code in ESCAPES:
        text = text.replace(char, code)
    return text


PANE_FORMAT = SEP.join(field_format(name) for name in _FIELDS)


def _int(text: str, default: int = 0) -> int:
    try:
        return int(text)
    except ValueError:
        return default


def parse_pane_line(line: str) -> PaneInfo | None:
    """One line of ``list-panes -a -F PANE_FORMAT`` output, or None if it is not one."""
    parts = line.split(SEP)
    if len(parts) != len(_FIELDS) or not _PANE_ID.fullmatch(parts[0]):
        return None
    (pane_id, pid, dead, dead_status, w_index, p_index, width, height, activity, in_mode,
     session_id, window_id, command, session, window_name, title) = parts
    if not (_OPTIONAL_ID.fullmatch(session_id) and _OPTIONAL_ID.fullmatch(window_id)):
        return None
    return PaneInfo(
        pane_id=pane_id,
        session=decode_field(session),
        window_index=_int(w_index),
        window_name=decode_field(window_name),
        pane_index=_int(p_index),
        pane_pid=_int(pid),
        current_command=decode_field(command),
        dead=dead == "1",
        dead_status=_int(dead_status) if dead_status else None,
        title=decode_field(title),
        width=_int(width, 80),
        height=_int(height, 24),
        window_activity=float(_int(activity)),
        session_id=session_id,
        window_id=window_id,
        in_mode=in_mode == "1",
    )


def _pane_row(line: str) -> PaneInfo | None:
    """:func:`parse_pane_line`, warning (rarely) about a line that is not a pane row."""
    global _last_warning
    pane = parse_pane_line(line)
    if pane is None and line.strip():
        now = time.monotonic()
        level = logging.WARNING if now - _last_warning >= _WARN_EVERY else logging.DEBUG
        if level == logging.WARNING:
            _last_warning = now
        log.log(level, "ignoring a line of list-panes that is not a pane row (tmux older than 3.1?): %r", line[:200])
    return pane


def parse_pane_lines(lines: list[str]) -> list[PaneInfo]:
    """Every pane of the listing's lines; a line that is not a pane row is skipped (warned about rarely)."""
    return [pane for line in lines if (pane := _pane_row(line)) is not None]


class PaneRows:
    """The rows of one server's last listing, parsed: a row tmux prints again unchanged is the same
    :class:`PaneInfo` object, not parsed again (most rows, listing after listing; and the core then
    knows it unchanged by identity)."""

    def __init__(self) -> None:
        self._last: dict[str, PaneInfo] = {}
        self._next: dict[str, PaneInfo] = {}

    def parse(self, lines: list[str]) -> list[PaneInfo]:
        """The panes of part of a listing (:meth:`done` once the whole listing was parsed)."""
        last, nxt = self._last, self._next
        out = []
        for line in lines:
            pane = last.get(line) or _pane_row(line)
            if pane is not None:
                nxt[line] = pane
                out.append(pane)
        return out

    def done(self) -> None:
        """The listing is whole: its rows are the ones the next listing is compared with."""
        self._last, self._next = self._next, {}

    def forget(self) -> None:
        """A listing that broke off: start the next one afresh."""
        self._next = {}


def parse_pane_listing(text: str) -> list[PaneInfo]:
    """Every pane of a whole ``list-panes`` output: rows end at ``\\n`` only (never ``str.splitlines``,
    which also splits at ``\\r``, ``\\x1c``-``\\x1e``, ``\\x85`` and ``\\u2028`` inside a name)."""
    return parse_pane_lines(text.split("\n"))
