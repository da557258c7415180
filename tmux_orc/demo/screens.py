"""What the simulated agent draws: Claude Code 2.x screens as plain lines, from a :class:`SimScreen`.

Shapes follow the screens observed with the real CLI (see the project's REAL-AGENTS notes): the ``❯``
prompt between two ``─`` rules with the mode footer, a spinner line with ``esc to interrupt`` while
working, the ``Do you want to proceed?`` permission dialog, ``● API Error: ... (429)`` on a rate limit.
Pure functions: the simulator's loop does the terminal I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PROMPT = "❯\u00a0"  # Claude Code 2.x puts a no-break space after the prompt glyph
RULE_CHAR = "─"
AUTO_MODE_FOOTER = "  ⏵⏵ auto mode on (shift+tab to cycle)"
WORKING_FOOTER = "  esc to interrupt"
PERMISSION_FOOTER = " Esc to cancel · Tab to amend"
SPINNER_GLYPHS = "·✢✳✶✻✽"
PANE_TITLE = "✳ Claude Code"
VERSION = "2.1.330"


@dataclass
class SimScreen:
    """Everything the next frame depends on."""

    cwd: str = "~/project"
    transcript: list[str] = field(default_factory=list)
    draft: str = ""  # text sitting in the prompt box
    phase: str = "idle"  # idle | working | permission | exit_hint
    spinner_verb: str = "Forming"
    working_seconds: int = 0
    tokens: int = 0
    frame: int = 0  # animation counter
    permission_command: str = ""
    permission_reason: str = ""


def banner(cwd: str, width: int) -> list[str]:
    """The welcome box at the top of a fresh session."""
    inner = max(20, min(width, 70) - 2)
    title = f" Claude Code v{VERSION} (simulated by tmux-orc demo) "
    top = "╭" + _center_in_rule(title, inner) + "╮"
    rows = ["", "  Welcome back!", "", f"  cwd: {cwd}", ""]
    body = ["│" + _fit(row, inner).ljust(inner) + "│" for row in rows]
    return [top, *body, "╰" + RULE_CHAR * inner + "╯", ""]


def prompt_box(draft: str, width: int) -> list[str]:
    """The input box: ``draft`` at the prompt between two rules ``width`` wide."""
    rule = RULE_CHAR * max(1, width)
    return [rule, PROMPT + draft, rule]


def spinner_line(screen: SimScreen) -> str:
    """The line shown while working: spinner frame, verb, elapsed seconds and tokens.

    >>> spinner_line(SimScreen(spinner_verb="Pondering", working_seconds=12, tokens=450))
    '· Pondering… (12s · ↓ 450 tokens)'
    """
    glyph = SPINNER_GLYPHS[screen.frame % len(SPINNER_GLYPHS)]
    return f"{glyph} {screen.spinner_verb}… ({screen.working_seconds}s · ↓ {screen.tokens} tokens)"


def permission_dialog(command: str, reason: str, cwd: str, width: int) -> list[str]:
    """The permission dialog for the Bash ``command``, with its three numbered options."""
    return [
        RULE_CHAR * max(1, width),
        " Bash command",
        "",
        f"   {command}",
        f"   {reason}",
        "",
        " Do you want to proceed?",
        " ❯ 1. Yes",
        f"   2. Yes, and don't ask again for {command.split()[0] if command else 'these'} commands in {cwd}",
        "   3. No, and tell Claude what to do differently (esc)",
        "",
        PERMISSION_FOOTER,
    ]


def render(screen: SimScreen, width: int, height: int) -> list[str]:
    """The frame: banner and as much of the transcript as fits, then the live region at the bottom
    of the content (inline, as Claude Code draws it), every line cut to ``width``."""
    width = max(10, width)
    height = max(5, height)
    if screen.phase == "permission":
        live = permission_dialog(screen.permission_command, screen.permission_reason, screen.cwd, width)
    else:
        live = []
        if screen.phase == "working":
            live += [spinner_line(screen), ""]
        live += prompt_box(screen.draft, width)
        if screen.phase == "working":
            live.append(WORKING_FOOTER)
        elif screen.phase == "exit_hint":
            live.append("  Press Ctrl-C again to exit")
        else:
            live.append(AUTO_MODE_FOOTER)
    history = banner(screen.cwd, width) + screen.transcript
    room = max(0, height - len(live))
    shown = history[-room:] if room else []
    return [_fit(line, width) for line in shown + live][-height:]


def _fit(line: str, width: int) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


def _center_in_rule(title: str, width: int) -> str:
    if len(title) + 6 > width:
        return RULE_CHAR * width
    left = 3
    return RULE_CHAR * left + title + RULE_CHAR * (width - left - len(title))
