"""Reading a captured screen into regions: transcript tail, input box, footer, dialog, menu.

Only the bottom of the screen is ever looked at. The *input box* is the agent's prompt (boxed, like
Claude Code's, or a bare prompt line); the *tail* is the newest transcript entry just above it; the
*footer* is what sits below it. When no input box is shown, the bottom lines form the *dialog* region
(permission prompts and questions replace the input box in every agent we know).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from tmux_orc.detect.patterns import TextPattern

MAX_LINES = 400  # lines kept from the bottom of a capture
MAX_WIDTH = 1000  # characters kept per line (bounds regex work on garbage)
TAIL_LINES = 16  # transcript lines above the input box that still count as live
DIALOG_LINES = 24  # bottom lines read as a dialog when no input box is shown
FOOTER_LINES = 14  # lines below an input box (footer, completions) before it counts as transcript

# Terminal escape sequences: CSI, OSC (to BEL or ST), two-character escapes, and a lone ESC. The one
# pattern for the whole project (screens here, alert text in core.alerts, pasted text in tmux.pm_delivery).
ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\ufeff]")
_BORDER = re.compile(r"^[╭┌╰└]?[─━═╌]{3,}[╮┐╯┘]?$")
_SIDES = "│┃"
# Animation that is not progress (see Layout.fingerprint): a duration inside parentheses is an
# elapsed-time counter ("(12s ·", "(1m 3s ·", "(0s •", "(esc to cancel, 12s)"); on a line that has
# one, the leading glyph is the spinner's animation frame.
_PARENS = re.compile(r"\([^()]*\)")
_DURATION = re.compile(r"(?<![\w.])\d+(?:\.\d+)?[hms](?:\s+\d+(?:\.\d+)?[hms])*\b")
_SPINNER_GLYPH = re.compile(r"^[^\w\s(]\s+(?=\S)")
# What animates in front of a line without being progress: an entry's bullet, or a spinner frame in
# front of "Verb…" (a spinner line without a clock still changes its frame).
_FRAME = re.compile(r"^(?:[●⏺]\s*|[^\w\s(]\s+(?=[^()]*?(?:…|\.\.\.)))")


@dataclass(frozen=True, slots=True)
class PromptShape:
    """How an agent draws its input line.

    ``line`` matches the first input line (after side borders are stripped) and captures the typed
    text in the group ``text``. A boxed prompt has a border line right above it and one below its last
    line; an unboxed prompt must sit within ``max_below`` non-blank lines of the bottom.

    A prompt with an ``edge`` is a *bar box* (opencode's): the unbroken run of lines starting with a
    side bar (``┃``/``│``) right above a line matching ``edge`` (its bottom edge, ``╹▀▀▀``), with no
    more than FOOTER_LINES non-blank lines below that edge. The box's last line, when it matches
    ``status``, is the agent's own line (opencode's ``Build · <model>``), not typed text.
    """

    name: str
    line: re.Pattern[str]
    boxed: bool = True
    max_below: int = 6
    edge: re.Pattern[str] | None = None
    status: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class ScreenShape:
    """Everything about an agent's screen layout that is not a state rule."""

    prompts: tuple[PromptShape, ...] = ()
    placeholders: tuple[TextPattern, ...] = ()  # text shown in an empty prompt (not typed)
    entry: re.Pattern[str] | None = None  # a transcript line that starts a new entry (column 0)
    cursors: str = "❯›>"  # characters that mark the selected option of a menu
    plain_menus: bool = False  # also read an unnumbered list under a cursor line as a menu


@dataclass(frozen=True, slots=True)
class Layout:
    """The regions of one screen. Lines are bare: stripped, box side borders removed."""

    tail: tuple[str, ...] = ()
    window: tuple[str, ...] = ()  # up to TAIL_LINES lines above the input box (or the bottom lines), uncut
    input: str | None = None  # typed text ("" for an empty prompt), None when no input box shows
    input_lines: tuple[str, ...] = ()
    footer: tuple[str, ...] = ()
    dialog: tuple[str, ...] = ()
    menu: tuple[str, ...] = ()
    prompt: str = ""  # name of the prompt shape that matched

    @property
    def live(self) -> tuple[str, ...]:
        """What the agent shows now, apart from the typed text."""
        return self.tail + self.footer

    def progress_text(self) -> str:
        """The text :meth:`fingerprint` hashes: the live window, input and footer, animation left out."""
        window = tuple(unframed(line) for line in self.window or self.tail)
        return "\n".join(without_clocks((*window, "\x00", *self.input_lines, "\x00", *self.footer)))

    def fingerprint(self) -> int:
        """A stable 63-bit hash of the live region and input (equal across processes and restarts).

        This is what "the screen changed" means for the stuck check, so animation that is not progress
        is left out (:func:`without_clocks`): a stream that stalls while its spinner's clock keeps
        ticking hashes the same, and so do an entry's bullet (Claude Code 2.0 blinks the ``●`` of a
        running tool) and a spinner's frame. It reads the whole :attr:`window`, not the tail cut at the
        newest entry: a bullet that blinks off moves where that entry seems to start, and a todo list
        under the spinner must not push the spinner's token count out. All other text still counts.
        """
        digest = hashlib.blake2b(self.progress_text().encode("utf-8", "replace"), digest_size=8).digest()
        return int.from_bytes(digest, "big") >> 1


def _unclocked(line: str) -> str:
    if "(" not in line:
        return line
    found = False

    def blank(group: re.Match[str]) -> str:
        nonlocal found
        text, count = _DURATION.subn("#", group.group(0))
        found = found or count > 0
        return text

    line = _PARENS.sub(blank, line)
    return _SPINNER_GLYPH.sub("", line) if found else line


def without_clocks(lines: tuple[str, ...]) -> tuple[str, ...]:
    """Lines with elapsed-time counters (a duration inside parentheses) blanked, and the spinner glyph
    of a line that had one dropped: ``✶ Ideating… (1m 3s · ↓ 3 tokens)`` -> ``Ideating… (# · ↓ 3 tokens)``.
    """
    return tuple(_unclocked(line) for line in lines)


def strip_escapes(text: str) -> str:
    """``text`` without terminal escape sequences.

    >>> strip_escapes("\\x1b[1mbold\\x1b[0m \\x1b]0;title\\x07done")
    'bold done'
    """
    return ESCAPE_SEQUENCE.sub("", text)


def normalise(screen: str) -> list[str]:
    """Printable, right-stripped lines of the bottom of a capture, trailing blank lines dropped."""
    if len(screen) > MAX_LINES * MAX_WIDTH:
        screen = screen[-MAX_LINES * MAX_WIDTH :]
    text = ESCAPE_SEQUENCE.sub("", screen).replace("\r\n", "\n").replace("\r", "\n")
    out = [clean_line(line) for line in text.split("\n")[-MAX_LINES:]]
    while out and not out[-1].strip():
        out.pop()
    return out


def clean_line(line: str) -> str:
    """One line of a capture as :func:`normalise` keeps it (escape sequences aside): printable, cut to
    MAX_WIDTH, tabs expanded, right-stripped."""
    return _CONTROL.sub("", line[:MAX_WIDTH].expandtabs(8)).replace("\xa0", " ").rstrip()


def unframed(line: str) -> str:
    """A bare line of the live window without the animation in front of it (an entry's bullet, a
    spinner frame before "Verb…"), as :meth:`Layout.progress_text` reads it."""
    return _FRAME.sub("", line)


def bare(line: str) -> str:
    """A line without indentation and box side borders."""
    text = line.strip()
    if text[:1] in _SIDES:
        text = text[1:]
    if text[-1:] in _SIDES:
        text = text[:-1]
    return text.strip()


def is_border(line: str) -> bool:
    """True for a horizontal rule or the top or bottom edge of a box.

    >>> is_border("╭──────╮"), is_border("  ────"), is_border("── a ──")
    (True, True, False)
    """
    return bool(_BORDER.match(line.strip()))


_OPTION = re.compile(r"^(\d{1,2})[.)]\s+\S")


def _menu_at(bare_lines: list[str], index: int, cursors: str) -> tuple[str, ...] | None:
    """The options of a numbered menu whose selected line is ``index``, or None."""
    line = bare_lines[index]
    if not line or line[0] not in cursors:
        return None
    chosen = _OPTION.match(line[1:].lstrip())
    if chosen is None:
        return None
    options = [line]
    for near in range(max(0, index - 6), min(len(bare_lines), index + 7)):
        other = _OPTION.match(bare_lines[near])
        if near != index and other is not None and other.group(1) != chosen.group(1):
            options.append(bare_lines[near])
    return tuple(options) if len(options) > 1 else None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _plain_menu_at(lines: list[str], bares: list[str], index: int, cursors: str) -> tuple[str, ...] | None:
    """An unnumbered option list: a cursor line (not the first line of an input box) and at least two
    neighbouring lines, contiguous and equally indented at or past the cursor line's label."""
    line = bares[index]
    if len(line) < 3 or line[0] not in cursors or not line[1].isspace() or (index and is_border(lines[index - 1])):
        return None
    after_cursor = lines[index].lstrip()[1:]
    label = _indent(lines[index]) + 1 + _indent(after_cursor)  # column of the selected option's text
    options = [line]
    for step in (1, -1):
        near, column = index + step, -1
        while 0 <= near < len(lines) and bares[near] and len(bares[near]) <= 80:
            indent = _indent(lines[near])
            if indent < label or (column >= 0 and indent != column) or bares[near][0] in cursors:
                break
            column = indent
            options.append(bares[near])
            near += step
    return tuple(options) if len(options) >= 3 else None


def _find_menu(
    lines: list[str], bares: list[str], start: int, shape: ScreenShape
) -> tuple[int, tuple[str, ...]] | None:
    for index in range(len(bares) - 1, start - 1, -1):
        menu = _menu_at(bares, index, shape.cursors)
        if menu is None and shape.plain_menus:
            menu = _plain_menu_at(lines, bares, index, shape.cursors)
        if menu is not None:
            return index, menu
    return None


@dataclass(frozen=True, slots=True)
class _Input:
    """Where a prompt was found: its first line (a box's top border), the lines it shows, the typed
    text's lines, the first line below it, and where the transcript above it ends (``top`` when None)."""

    top: int
    shown: tuple[str, ...]
    typed: tuple[str, ...]
    below: int
    above: int | None = None


def _boxed_input(lines: list[str], bares: list[str], shape: PromptShape, menus: set[int]) -> _Input | None:
    """The lowest input box of this shape: a border line, the prompt line, ..., a border line."""
    lowest = max(0, len(lines) - FOOTER_LINES - 60)
    for index in range(len(lines) - 1, lowest, -1):
        if index in menus or not is_border(lines[index - 1]):
            continue
        match = shape.line.match(bares[index])
        if match is None:
            continue
        for bottom in range(index + 1, min(len(lines), index + 60)):
            if is_border(lines[bottom]):
                below = [b for b in bares[bottom + 1 :] if b]
                if len(below) <= FOOTER_LINES:
                    body = (match.group("text"), *bares[index + 1 : bottom])
                    return _Input(index - 1, body, body, bottom + 1)
                return None
        return None
    return None


def _bare_input(lines: list[str], bares: list[str], shape: PromptShape, menus: set[int]) -> _Input | None:
    """An unboxed prompt line near the bottom, with its indented continuation lines."""
    seen = 0
    for index in range(len(lines) - 1, -1, -1):
        if bares[index]:
            seen += 1
        if seen > shape.max_below + 1:
            return None
        if index in menus:
            continue
        match = shape.line.match(bares[index])
        if match is None:
            continue
        end = index + 1
        while end < len(lines) and lines[end][:1] == " " and bares[end] and not is_border(lines[end]):
            end += 1
        body = (match.group("text"), *bares[index + 1 : end])
        return _Input(index, body, body, end)
    return None


def _barred(line: str) -> bool:
    """True for a line that starts with a box side bar (after its indentation)."""
    text = line.lstrip()
    return bool(text) and text[0] in _SIDES


def _bar_input(lines: list[str], bares: list[str], shape: PromptShape, menus: set[int]) -> _Input | None:
    """A bar box (see :class:`PromptShape`) closed by its ``edge`` near the bottom."""
    if shape.edge is None:
        return None
    seen = 0
    for index in range(len(lines) - 1, 0, -1):
        if not shape.edge.match(lines[index].strip()):
            seen += 1 if bares[index] else 0
            if seen > FOOTER_LINES:
                return None
            continue
        top = index
        while top > 0 and index - top < 60 and _barred(lines[top - 1]) and top - 1 not in menus:
            top -= 1
        shown = tuple(bares[top:index])
        typed = list(shown)
        while typed and not typed[-1]:
            typed.pop()
        if typed and shape.status is not None and shape.status.search(typed[-1]):
            typed.pop()
            if not typed:  # the agent's line alone (the rest drawn over, as by a shell): no box
                return None
        while typed and not typed[-1]:
            typed.pop()
        while typed and not typed[0]:
            typed.pop(0)
        match = shape.line.match(typed[0] if typed else "")
        if top == index or match is None:
            return None
        above = top  # a box pinned to the bottom: the blank gap over it is layout, not transcript
        while above > 0 and not lines[above - 1].strip():
            above -= 1
        return _Input(top, shown, (match.group("text"), *typed[1:]), index + 1, above)
    return None


def _cut_at_entry(lines: list[str], entry: re.Pattern[str] | None) -> list[str]:
    """Keep only the newest transcript entry: from its first line on."""
    if entry is None:
        return lines
    for index in range(len(lines) - 1, -1, -1):
        if entry.match(lines[index]):
            return lines[index:]
    return lines


def _strip_placeholder(text: str, shape: ScreenShape) -> str:
    text = text.strip()
    if any(p.fullmatch(text) for p in shape.placeholders):
        return ""
    return text


def read_layout(screen: str, shape: ScreenShape) -> Layout:
    """Split a captured screen into regions for one agent's screen shape."""
    lines = normalise(screen)
    bares = [bare(line) for line in lines]
    start = max(0, len(lines) - DIALOG_LINES)
    found_menu = _find_menu(lines, bares, start, shape)
    menus = set() if found_menu is None else {found_menu[0]}
    for prompt in shape.prompts:
        finder = _bar_input if prompt.edge is not None else _boxed_input if prompt.boxed else _bare_input
        found = finder(lines, bares, prompt, menus)
        if found is None:
            continue
        end = found.top if found.above is None else found.above
        window = lines[max(0, end - TAIL_LINES) : end]
        return Layout(
            tail=_kept(_cut_at_entry(window, shape.entry)),
            window=_kept(window),
            input=_strip_placeholder("\n".join(found.typed), shape),
            input_lines=found.shown,
            footer=tuple(b for b in bares[found.below :] if b),
            prompt=prompt.name,
        )
    bottom = _cut_at_entry(lines[start:], shape.entry)
    region = _kept(bottom)
    menu = found_menu[1] if found_menu is not None and found_menu[0] >= len(lines) - len(bottom) else ()
    return Layout(tail=region, window=_kept(lines[start:]), dialog=region, menu=menu)


def _kept(lines: list[str]) -> tuple[str, ...]:
    """Bare lines without the blank ones and the rules."""
    return tuple(b for b in (bare(line) for line in lines) if b and not is_border(b))
