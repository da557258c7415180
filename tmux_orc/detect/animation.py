"""Is a new capture of a pane the last one with only its animation moved? Without reading the layout.

A working agent redraws its spinner line many times a second: the frame glyph in front of it turns
and its clock ticks (``✶ Ideating… (12s · esc to interrupt)`` -> ``✻ Ideating… (13s · esc to
interrupt)``). :meth:`~tmux_orc.detect.screen.Layout.progress_text` leaves exactly that out, but
reading a layout costs far more than comparing two captures line by line. :func:`same_but_animation`
answers for the common case and says False whenever it cannot be sure, so that the layout is read:

- both captures have the same lines but for some, and each such pair reads the same once its clocks
  are blanked, both as the live window reads a line (its leading frame dropped first) and as the
  input and footer read one; so whichever region a line is in, the progress text is the same;
- and the two lines of a pair differ in nothing that could move where the regions are: they start
  with the same character, or both with a spinner glyph (braille, a dingbat star, a geometric shape,
  ``·`` or ``⏺``; never a menu cursor such as ``❯``), and apart from that only in clocks.
"""

from __future__ import annotations

from tmux_orc.detect.screen import MAX_LINES, MAX_WIDTH, bare, clean_line, unframed, without_clocks

_CURSORS = frozenset("❯›>")
_GLYPH_RANGES = ((0x2800, 0x28FF), (0x2700, 0x27BF), (0x25A0, 0x25FF))  # braille, dingbats, geometric shapes


def is_spinner_glyph(ch: str) -> bool:
    """True for a character spinners draw frames with (never a menu or prompt cursor)."""
    if ch in _CURSORS or len(ch) != 1:
        return False
    code = ord(ch)
    return ch in "·⏺" or any(low <= code <= high for low, high in _GLYPH_RANGES)


def _same_line(old: str, new: str) -> bool:
    if "\r" in old or "\r" in new:
        return False  # a carriage return splits a line in two: the layout's own reading decides
    a, b = bare(clean_line(old)), bare(clean_line(new))
    if not a or not b:
        return False
    if a[0] != b[0] and not (is_spinner_glyph(a[0]) and is_spinner_glyph(b[0])):
        return False
    (ga, gb), (fa, fb) = without_clocks((a, b)), without_clocks((unframed(a), unframed(b)))
    return ga == gb and fa == fb


def same_but_animation(old: str, new: str) -> bool:
    """True when ``new`` is ``old`` with only spinner frames and clocks moved: the same progress text
    in every region (see the module). False when unsure."""
    if old == new:
        return True
    if "\x1b" in old or "\x1b" in new or max(len(old), len(new)) > MAX_LINES * MAX_WIDTH:
        return False  # an escape sequence may span lines; a huge capture is cut by characters, not lines
    before, after = old.split("\n"), new.split("\n")
    if len(before) != len(after):
        return False
    return all(x == y or _same_line(x, y) for x, y in zip(before, after, strict=True))
