"""A scripted stand-in for Claude Code 2.x, run in the demo's tmux panes (as ``claude-sim``).

It plays a script from :mod:`tmux_orc.demo.scripts` (working, idle, permission dialogs, rate limits, a
crash) and redraws a realistic screen about twice a second. Someone attached to the demo's tmux can
also drive it: type and press Enter to give it work, ``1``/Enter approves a permission, Esc declines
or interrupts, Ctrl-C twice exits. It redraws at once on a terminal resize and sleeps between frames.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import select
import signal
import sys
import termios
import time
import tty
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import TextIO

from tmux_orc.demo.screens import PANE_TITLE, SimScreen, render
from tmux_orc.demo.scripts import SCRIPTS, Step

FRAME_SECONDS = 0.5
EXIT_HINT_SECONDS = 2.0
RESUME_AFTER_SECONDS = 20.0  # quiet time at the prompt after a key-driven turn before the script goes on
ENTER_KEYS = (b"\r", b"\n")
ESC = b"\x1b"
BACKSPACE_KEYS = (b"\x7f", b"\x08")


class AgentSim:
    """The simulated agent's behaviour, driven by a clock and keys; no I/O."""

    def __init__(self, script: Sequence[Step], *, now: float, cwd: str = "~/project") -> None:
        self.script = tuple(script)
        self.screen = SimScreen(cwd=cwd)
        self.manual = False  # keys arrived (a person, or the monitor's message): the script pauses
        self.exit_code: int | None = None
        self.crash_message = ""
        self._index = -1
        self._step = Step("idle", math.inf)
        self._started = now
        self._exit_hint_until = 0.0
        self._advance(now)

    @property
    def step(self) -> Step:
        """The script step being played (or the wait at the prompt after a key-driven turn)."""
        return self._step

    def tick(self, now: float) -> None:
        """Move time on: animate the current step, finish it when its time is up."""
        screen = self.screen
        screen.frame += 1
        elapsed = now - self._started
        if screen.phase == "exit_hint" and now >= self._exit_hint_until:
            screen.phase = "idle"
        if self._step.action == "type":
            shown = int(len(self._step.text) * min(1.0, elapsed / max(self._step.seconds, 0.1)))
            screen.draft = self._step.text[:shown]
        elif self._step.action == "work":
            screen.working_seconds = int(elapsed)
            screen.tokens = int(elapsed * 37) + 2
        if elapsed >= self._step.seconds:
            self._finish(now)
            self._advance(now)

    def press(self, keys: bytes, now: float) -> None:
        """Keys typed into the pane."""
        self.manual = True
        screen = self.screen
        if self._step.action in ("idle", "type", "hold", "resume", "rate_limit"):
            self._step, self._started = Step("resume", RESUME_AFTER_SECONDS), now  # keep the draft
        if screen.phase == "permission":
            if keys[:1] in (b"1", b"2", *ENTER_KEYS):
                self._finish(now)
                self._begin(Step("work", 5, "Running", ("Done: the command ran (simulated).",)), now)
            elif keys in (ESC, b"3"):
                screen.transcript += [f"● Bash({screen.permission_command})", "  ⎿  User rejected", ""]
                self._begin(Step("resume", RESUME_AFTER_SECONDS), now)
            return
        if screen.phase == "working":
            if keys == ESC:
                self.interrupt(now)
            return
        for char in keys.decode("utf-8", errors="ignore"):
            if char in "\r\n":
                if screen.draft.strip():
                    self._begin(Step("work", 6, "Pondering", (reply_to(screen.draft),)), now)
                return
            if char in "\x7f\x08":
                screen.draft = screen.draft[:-1]
            elif char.isprintable():
                screen.draft += char
                screen.phase = "idle"

    def interrupt(self, now: float) -> None:
        """Ctrl-C: stop working; at the prompt, a second Ctrl-C within two seconds exits."""
        screen = self.screen
        if screen.phase == "working":
            self.manual = True
            screen.transcript += ["  ⎿  Interrupted · What should Claude do instead?", ""]
            self._begin(Step("resume", RESUME_AFTER_SECONDS), now)
        elif screen.phase == "exit_hint":
            self.exit_code = 0
        else:
            screen.phase = "exit_hint"
            self._exit_hint_until = now + EXIT_HINT_SECONDS

    def _advance(self, now: float) -> None:
        if self.manual and self._step.action != "resume":
            # after a turn driven by keys, wait at the prompt; the script resumes if no key comes
            self._begin(Step("resume", RESUME_AFTER_SECONDS), now)
            return
        self.manual = False
        if not self.script:
            self._begin(Step("idle", math.inf), now)
            return
        self._index = (self._index + 1) % len(self.script)
        self._begin(self.script[self._index], now)

    def _begin(self, step: Step, now: float) -> None:
        screen = self.screen
        self._step = step
        self._started = now
        if step.action == "work":
            if screen.draft:
                screen.transcript += [f"> {screen.draft}", ""]
                screen.draft = ""
            screen.phase = "working"
            screen.spinner_verb = step.text or "Forming"
            screen.working_seconds = 0
            screen.tokens = 2
        elif step.action == "ask":
            screen.phase = "permission"
            screen.permission_command = step.text
            screen.permission_reason = step.lines[0] if step.lines else ""
        elif step.action == "rate_limit":
            screen.phase = "idle"
            screen.transcript += [f"● API Error: Request rejected (429) · {step.text}", ""]
        elif step.action == "type":
            screen.phase = "idle"
            screen.draft = ""
        elif step.action == "crash":
            self.exit_code = 1
            self.crash_message = step.text or "simulated crash"
        elif screen.phase != "exit_hint":
            screen.phase = "idle"

    def _finish(self, now: float) -> None:
        screen = self.screen
        if self._step.action == "work":
            screen.transcript += [f"● {line}" for line in self._step.lines]
            done_at = time.strftime("%I:%M %p").lstrip("0")
            screen.transcript += [f"✻ Churned for {int(now - self._started)}s · done {done_at}", ""]
            screen.phase = "idle"
        elif self._step.action == "ask":
            output = self._step.lines[1] if len(self._step.lines) > 1 else "done"
            screen.transcript += [f"● Bash({self._step.text})", f"  ⎿  {output}", ""]
            screen.phase = "idle"


def reply_to(prompt: str) -> str:
    """What the simulated agent answers to a prompt typed into it."""
    if prompt.startswith("[tmux-orc]"):  # the monitor's alert, delivered to the PM's pane
        return "Noted the monitor's alert; I'll check on that agent and reassign its work."
    return "This is the tmux-orc demo's simulated agent: nothing was changed."


class PaneTerminal:
    """The pane's terminal: no echo, keys one by one, immediate wake-up on signals (SIGWINCH, ...)."""

    def __init__(self, out: TextIO, stdin_fd: int | None) -> None:
        self.out = out
        self.stdin_fd = stdin_fd if stdin_fd is not None and os.isatty(stdin_fd) else None
        self.interrupted = False
        self.stop_requested = False
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        os.set_blocking(self._wake_read, False)

    @contextlib.contextmanager
    def session(self) -> Iterator[PaneTerminal]:
        """Set the pane up (keys one by one, signals that wake the loop, title, no cursor); restore it all on exit."""
        saved = termios.tcgetattr(self.stdin_fd) if self.stdin_fd is not None else None
        previous_wakeup = signal.set_wakeup_fd(self._wake_write)
        handlers = {
            signal.SIGWINCH: signal.signal(signal.SIGWINCH, self._on_signal),
            signal.SIGINT: signal.signal(signal.SIGINT, self._on_signal),
            signal.SIGTERM: signal.signal(signal.SIGTERM, self._on_signal),
            signal.SIGHUP: signal.signal(signal.SIGHUP, self._on_signal),
        }
        try:
            if self.stdin_fd is not None:
                tty.setcbreak(self.stdin_fd)
            self.out.write(f"\033]0;{PANE_TITLE}\007\033[?25l\033[H\033[2J")
            yield self
        finally:
            with contextlib.suppress(OSError, ValueError):
                self.out.write("\033[?25h")
                self.out.flush()
            if saved is not None and self.stdin_fd is not None:
                with contextlib.suppress(termios.error):
                    termios.tcsetattr(self.stdin_fd, termios.TCSADRAIN, saved)
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
            signal.set_wakeup_fd(previous_wakeup)
            os.close(self._wake_read)
            os.close(self._wake_write)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGINT:
            self.interrupted = True
        elif signum in (signal.SIGTERM, signal.SIGHUP):
            self.stop_requested = True

    def size(self) -> tuple[int, int]:
        """The terminal's columns and lines (80 x 24 when it cannot tell)."""
        try:
            size = os.get_terminal_size(self.out.fileno())
        except (OSError, ValueError):
            return 80, 24
        return size.columns, size.lines

    def draw(self, lines: Sequence[str]) -> None:
        """Repaint from the top without clearing the whole screen (nothing is pushed to history)."""
        self.out.write("\033[H" + "\r\n".join(line + "\033[K" for line in lines) + "\033[J")
        self.out.flush()

    def wait_for_keys(self, seconds: float) -> bytes:
        """Sleep up to ``seconds``; return early with typed keys, or on a signal (with no keys)."""
        watched = [self._wake_read] + ([self.stdin_fd] if self.stdin_fd is not None else [])
        try:
            ready, _, _ = select.select(watched, [], [], seconds)
        except InterruptedError:  # pragma: no cover - select retries by itself since PEP 475
            return b""
        if self._wake_read in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_read, 512)
        if self.stdin_fd is not None and self.stdin_fd in ready:
            data = os.read(self.stdin_fd, 1024)
            if not data:  # the terminal went away
                self.stop_requested = True
            return data
        return b""


def run(sim: AgentSim, terminal: PaneTerminal) -> int:
    """Animate until the script crashes, a signal asks to stop, or Ctrl-C twice."""
    while True:
        now = time.monotonic()
        if terminal.interrupted:
            terminal.interrupted = False
            sim.interrupt(now)
        sim.tick(now)
        if terminal.stop_requested:
            return 0
        width, height = terminal.size()
        lines = render(sim.screen, width, height)
        if sim.exit_code is not None:
            terminal.draw(lines[: max(0, height - 3)])
            if sim.crash_message:
                terminal.out.write(f"\r\n\r\nError: {sim.crash_message}\r\n")
            return sim.exit_code
        terminal.draw(lines)
        keys = terminal.wait_for_keys(FRAME_SECONDS)
        if keys:
            sim.press(keys, time.monotonic())


def main(argv: Sequence[str] | None = None) -> int:
    """``claude-sim [--script NAME] [--cwd DIR]``: act out a script in this terminal; returns the exit status."""
    parser = argparse.ArgumentParser(prog="claude-sim", description="simulated Claude Code for the demo")
    parser.add_argument("--script", choices=sorted(SCRIPTS), default="developer", help="what to act out")
    parser.add_argument("--cwd", default="~/project", help="the folder shown in the banner")
    args = parser.parse_args(argv)
    sim = AgentSim(SCRIPTS[args.script], now=time.monotonic(), cwd=args.cwd)
    stdin_fd = sys.stdin.fileno() if sys.stdin is not None else None
    terminal = PaneTerminal(sys.stdout, stdin_fd)
    with terminal.session():
        code = run(sim, terminal)
    sys.stdout.flush()
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
