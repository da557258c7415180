"""Hypothesis strategies for what a hostile pane, window, session or directory can hold; helpers that
put such text into a private tmux server's panes and read back what tmux holds."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from hypothesis import strategies as st

from tests.harness.tmux import TmuxTestServer
from tmux_orc.tmux.commands import one_value
from tmux_orc.tmux.format import SEP

# Pieces that mean something to tmux, to our listing, to a shell or to a terminal.
PIECES = (
    "#{pane_id}", "#{window_name}", "#W", "#S", "##", "#", "#[fg=red]", "#,", "#}",
    ";", "\\;", "\\", "\\\\;", " ;", "{", "}", "$HOME", "${SHELL}", "~", "'", '"', "`id`", "$(id)",
    "\n", "\r", "\t", "\x0b", "\x0c", "\x1b[31m", "\x1b]2;t\x07", "\x7f", SEP, "\x1c", "\x1e", "\x85",
    "\u2028", "%", "%0A", "%25", "%1F", "%end 1 2 1", "%begin 1 2 1", "%999", "$1", "@2",
    "-", "--", "-t", "=", ":", ".", "*", "?", "[a]", " ", "é", "✓", "🚨", "日本語", "Claude-pm",
)
# A row the listing would have taken for a dead PM before its fields were escaped.
FORGED_ROW = SEP.join(["%999", "1", "1", "0", "0", "0", "80", "24", "0", "0", "$0", "@99", "bash", "team",
                       "Claude-pm", "pm"])


def injection(marker: str) -> str:
    """A shell job tmux would run (``#(...)``) if the text reached it as a format: it creates ``marker``."""
    return f"#(touch {marker})"


def _characters() -> st.SearchStrategy[str]:
    """Any character that can be in an argv string (no NUL, no lone surrogate)."""
    return st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")


def hostile_text(marker: str | None = None, *, max_pieces: int = 6) -> st.SearchStrategy[str]:
    """Text built from the pieces above, free characters and (given a marker path) a ``#(touch ...)``."""
    pieces = list(PIECES) + ([injection(marker)] if marker else [])
    piece = st.one_of(st.sampled_from(pieces), st.text(_characters(), min_size=1, max_size=4))
    return st.lists(piece, min_size=1, max_size=max_pieces).map("".join)


def hostile_window_names(marker: str | None = None) -> st.SearchStrategy[str]:
    """A window name: hostile text, non-empty."""
    return hostile_text(marker).filter(bool)


def hostile_commands() -> st.SearchStrategy[str]:
    """An argv[0] a program sets with ``exec -a``: anything but NUL, often a forged listing row."""
    forged = st.builds(lambda a, b: f"{a}\n{FORGED_ROW}\n{b}", hostile_text(max_pieces=2), hostile_text(max_pieces=2))
    return st.one_of(hostile_text(), forged)


def hostile_screens() -> st.SearchStrategy[str]:
    """What a program prints: control sequences, fake control-mode guards, fake rows, fake prompts."""
    line = st.one_of(hostile_text(max_pieces=4), st.sampled_from(["❯ ", "> ", "Do you want to proceed?",
                                                                  FORGED_ROW, "%end 0 0 1", "%exit"]))
    return st.lists(line, min_size=1, max_size=8).map("\n".join)


# --- putting hostile text into panes, and reading back what tmux holds -------------------------------
STANDIN = str(Path(__file__).resolve().parents[1] / "harness" / "bin" / "claude")


def shell_running(command: str) -> str:
    """A pane command as a user has it: a shell that runs ``command`` and stays when it exits."""
    return f"bash --norc --noprofile -c {shlex.quote(command + '; exec bash --norc --noprofile')}"


def with_argv0(argv0: str) -> str:
    """A pane command whose foreground process calls itself ``argv0`` (``exec -a``): its pane_current_command."""
    return f"exec bash --norc --noprofile -c 'exec -a \"$0\" sleep 600' {shlex.quote(argv0)}"


def tmux_value(srv: TmuxTestServer, target: str, variable: str) -> str:
    """What tmux holds for one format variable, one value per command (nothing to split), decoded as the
    daemon decodes (UTF-8, bad bytes replaced)."""
    out = subprocess.run(["tmux", "-u", "-S", str(srv.socket), "display-message", "-p", "-t", target,
                          f"#{{{variable}}}"], capture_output=True, env=srv.env, timeout=20, check=True).stdout
    return one_value(out.decode("utf-8", "replace"))
