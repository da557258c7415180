"""Flow control of one output client: which panes tmux is told to hold back, and when each is let go.

Every ``%output`` line costs the tmux server a turn of its event loop (it polls every pane's terminal
each turn), so a spinner streamed frame by frame costs tmux more than anything else the daemon does.
tmux lets a control client pause a pane (``refresh-client -A '%N:pause'``: its output to that client
is dropped, while tmux keeps reading the pane and drawing its screen) and continue it
(``'%N:continue'``: output flows again from that moment; what came in between is not sent). tmux
3.2 and later; several ``-A`` in one command.

- Output that is news (:mod:`tmux_orc.tmux.notify` decides) marks the pane changed and is never held
  back: the rest of a dialog being drawn is news too. (Holding a pane until it was read was tried: a
  dialog drawn in several writes was then now and then read before its last one, and missed.)
- Output that is not news (a spinner frame, a clock) holds the pane for ``hold`` seconds. When it is
  let go it must print again within ``quiet`` seconds: a pane that kept animating did not stop to
  ask or to finish (any such change stops a working agent's spinner); one that fell silent is read,
  since whatever it drew while held was not seen (:meth:`PaneFlow.silent`).
- Panes that are not followed (no agent in them) are held for good once they print: the
  reconciliation cycle reads them at its pace.
- A pane whose output was dropped stays :meth:`unsure` until it is read; the change feed's owner
  reads those panes every few reconciliations (``core.follow.UNSURE_EVERY``), so a change drawn while
  a spinner went on is never older than that.
- Spinners are held back only while the output client streams more than ``STREAM_BUDGET`` frames a
  second that say nothing new (:class:`FrameMeter`): below that, streaming them costs no more than
  pausing and continuing them (measured: 200 frames a second, 100 agents), and a dialog drawn over a
  stopped spinner is read as it comes. Once over, holding goes on for ``ENGAGED_FOR`` seconds, then
  the frames stream again and are counted afresh.

Everything here is bookkeeping without I/O; the change feed sends the commands.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

HOLD = 1.0  # seconds a pane printing nothing new is held back before tmux sends its output again
QUIET = 0.35  # seconds a let-go pane has to print again, else it is read (its spinner stopped)
SLACK = 0.15  # holds ending this close together are let go by one command
STREAM_BUDGET = 300  # frames a second saying nothing new that one output client streams before holding
ENGAGED_FOR = 30.0  # seconds spinners are held back once the budget was exceeded
FOREVER = math.inf


class FrameMeter:
    """Counts the frames that said nothing new, per second of the monotonic clock; says when to hold."""

    def __init__(self, budget: float = STREAM_BUDGET, engaged_for: float = ENGAGED_FOR) -> None:
        self.budget = budget
        self.engaged_for = engaged_for
        self._second = -1
        self._count = 0
        self._until = -math.inf
        self.engagements = 0  # times the budget was exceeded (for metrics)

    def frame(self, now: float) -> None:
        """One such frame was streamed now."""
        second = int(now)
        if second != self._second:
            self._second, self._count = second, 0
        self._count += 1
        if self._count > self.budget:
            if now >= self._until:
                self.engagements += 1
            self._until = now + self.engaged_for
            self._count = 0

    def holding(self, now: float) -> bool:
        """True while spinners should be held back."""
        return now < self._until


class PaneFlow:
    """The panes one output client holds back (paused in tmux), and when to let each go."""

    def __init__(self, hold: float = HOLD, quiet: float = QUIET, slack: float = SLACK) -> None:
        self.hold = hold
        self.quiet = quiet
        self.slack = slack
        self.followed: set[str] | None = None  # pane ids to follow; None: every pane
        self.held: dict[str, float] = {}  # pane id -> when to let it go (FOREVER: once read / never)
        self.listening: dict[str, float] = {}  # let-go pane id -> by when it must print again
        self.to_pause: set[str] = set()  # held, not yet told to tmux
        self._unsure: set[str] = set()  # output dropped since the pane's last reading
        self.pauses = 0  # panes held (for metrics)

    def output(self, pane: str, news: bool, now: float, hold: bool = True) -> None:
        """The pane printed (``news``: something not seen since its meaning last changed; ``hold``
        False: a followed pane's frames stream on, the output client is not busy)."""
        self.listening.pop(pane, None)
        if pane in self.held:
            return  # printed before tmux had the pause: the reading or the hold covers it
        if self.followed is not None and pane not in self.followed:
            until = FOREVER
        elif news or not hold:
            return  # news streams on: the rest of what it draws is news too, and read as it comes
        else:
            until = now + self.hold
        self.held[pane] = until
        self.to_pause.add(pane)
        self._unsure.add(pane)
        self.pauses += 1

    def take_pauses(self) -> list[str]:
        """The panes to pause now (each once)."""
        panes, self.to_pause = sorted(self.to_pause), set()
        return panes

    def release(self, panes: Iterable[str]) -> list[str]:
        """These panes are about to be read: the reading sees what they drew so far, so they are sure
        again; return the held ones among them, to continue first (their output from then on is
        streamed). Panes not followed stay held and are not returned."""
        out = []
        for pane in panes:
            if self.followed is not None and pane not in self.followed:
                continue
            self._unsure.discard(pane)
            self.listening.pop(pane, None)
            if pane in self.held:
                del self.held[pane]
                self.to_pause.discard(pane)
                out.append(pane)
        return sorted(out)

    def retry(self, panes: Iterable[str], at: float) -> None:
        """tmux may not have continued these panes (the command failed or timed out): count them held
        until ``at``, when :meth:`due` lets them go again, and unsure (their output may be dropped)."""
        for pane in panes:
            if self.followed is not None and pane not in self.followed:
                continue
            self.listening.pop(pane, None)
            self.held[pane] = min(at, self.held.get(pane, at))
            self._unsure.add(pane)

    def due(self, now: float) -> list[str]:
        """Held panes whose hold ends now (or within ``slack``): to continue, then listen to."""
        out = sorted(pane for pane, until in self.held.items() if until <= now + self.slack)
        for pane in out:
            del self.held[pane]
            self.to_pause.discard(pane)
            self.listening[pane] = now + self.quiet
        return out

    def silent(self, now: float) -> list[str]:
        """Let-go panes that printed nothing within ``quiet``: to read (what they drew while held)."""
        out = sorted(pane for pane, until in self.listening.items() if until <= now)
        for pane in out:
            del self.listening[pane]
        return out

    def next_at(self) -> float:
        """When :meth:`due` or :meth:`silent` next has something (``inf``: nothing pending)."""
        return min(min(self.held.values(), default=FOREVER), min(self.listening.values(), default=FOREVER))

    def follow(self, panes: set[str] | None) -> list[str]:
        """Follow only these panes from now on (None: every pane); return the panes held for good that
        are followed now: to continue, and to read (what they printed meanwhile was dropped)."""
        self.followed = panes
        back = sorted(p for p, until in self.held.items() if until == FOREVER and (panes is None or p in panes))
        for pane in back:
            del self.held[pane]
            self.to_pause.discard(pane)
        if panes is not None:
            for pane in self.held.keys() - panes:
                self.held[pane] = FOREVER  # no agent there any more: held until there is one again
            self.listening = {p: t for p, t in self.listening.items() if p in panes}
        return back

    def unsure(self) -> set[str]:
        """Followed panes whose output tmux dropped since they were last read."""
        if self.followed is None:
            return set(self._unsure)
        return self._unsure & self.followed

    def is_held(self, pane: str) -> bool:
        """True while this client asked tmux to pause the pane."""
        return pane in self.held

    def reset(self) -> None:
        """A new connection: tmux holds nothing back for it."""
        self.held.clear()
        self.listening.clear()
        self.to_pause.clear()
        self._unsure.clear()
