"""Delivering a message into an agent's prompt without touching what someone typed there.

A message is pasted only when the capture taken just before shows an empty prompt (read by
:mod:`tmux_orc.detect.prompt`, the same reading as detection), through the :class:`PaneActions` port,
then followed on later cycles until it is seen submitted (a bounded number of Enter presses).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from tmux_orc.core.ports import PaneActions
from tmux_orc.detect.prompt import message_submitted, prompt_is_empty, prompt_text
from tmux_orc.detect.rules import Profiles

MAX_ENTERS = 3


class DeliveryRefused(Exception):
    """The prompt is not empty (someone is typing) or no prompt is in view: nothing was pasted."""


class Step(StrEnum):
    """What to do next about a pasted message."""

    DONE = "done"  # the message left the prompt
    ENTER = "enter"  # still in the prompt: press Enter again
    FAILED = "failed"  # still there after MAX_ENTERS presses: leave it to a person


@dataclass(slots=True)
class Submission:
    """A pasted message waiting to be seen submitted; feed it each later capture of the pane."""

    pane_id: str
    text: str
    kind: str
    screen_before: str
    enters: int = 1
    profiles: Profiles | None = field(default=None, repr=False)

    def check(self, screen_now: str) -> Step:
        """DONE once the text left the prompt; ENTER to press again; FAILED after MAX_ENTERS presses."""
        if message_submitted(self.screen_before, screen_now, self.text, self.kind, self.profiles):
            return Step.DONE
        return Step.FAILED if self.enters >= MAX_ENTERS else Step.ENTER

    async def retry_enter(self, actions: PaneActions) -> None:
        """Press Enter once more in the pane."""
        self.enters += 1
        await actions.press_enter(self.pane_id)


async def deliver(actions: PaneActions, pane_id: str, text: str, screen: str, kind: str,
                  profiles: Profiles | None = None) -> Submission:
    """Paste ``text`` if ``screen`` (a capture taken just before) shows an empty prompt.

    Raises :class:`DeliveryRefused` otherwise: whatever someone typed stays untouched. (A key typed
    between that capture and the paste lands before the message; the window is one tmux round trip.)
    """
    if not prompt_is_empty(screen, kind, profiles):
        why = "no input prompt in view" if prompt_text(screen, kind, profiles) is None else "the prompt is not empty"
        raise DeliveryRefused(f"not delivering to {pane_id}: {why}")
    await actions.paste(pane_id, text)
    return Submission(pane_id, text, kind, screen, profiles=profiles)
