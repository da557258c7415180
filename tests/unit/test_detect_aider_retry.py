"""Aider's retried API errors, read by meaning on variants of the real screens (tests/corpus/aider)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.detect_helpers import alive, look
from tmux_orc.model import Kind, State

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "aider"


def _screen(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8")


def _until(screen: str, marker: str) -> str:
    """The screen cut right after the last line containing ``marker`` (an earlier moment of it)."""
    lines = screen.rstrip("\n").splitlines()
    index = max(i for i, line in enumerate(lines) if marker in line)
    return "\n".join(lines[: index + 1]) + "\n"


@pytest.mark.parametrize(
    ("screen", "state"),
    [
        # the retry got through and its reply streams: the failure above it is history
        (lambda: _until(_screen("idle-real-429-recovered.txt"), "Hello from the fake model."), State.WORKING),
        (lambda: _until(_screen("idle-real-500-recovered.txt"), "Hello from the fake model."), State.WORKING),
        # during the backoff sleep: the retry line is the last one
        (lambda: _until(_screen("rate-limited-real-429-retrying.txt"), "Retrying in"), State.RATE_LIMITED),
        (lambda: _until(_screen("error-real-500-retrying.txt"), "Retrying in"), State.ERROR),
        # the retried turn finished: its token report starts a new entry, the prompt is idle
        (lambda: _screen("idle-real-429-recovered.txt"), State.IDLE),
    ],
)
def test_retry_read_by_meaning(screen: object, state: State) -> None:
    text = screen()  # type: ignore[operator]
    verdict = look(text, alive(Kind.AIDER)).verdict
    assert verdict.state is state, (verdict.rule, verdict.detail, text[-600:])


def test_second_failure_after_a_retry_is_still_blocked() -> None:
    """Retry, then the next attempt fails again: the pair (retry line, next failure) is no recovery."""
    first = _until(_screen("rate-limited-real-429-retrying.txt"), "Retrying in")
    again = (
        first
        + "░litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached\nRetrying in 0.5 seconds...\n"
    )
    assert look(again, alive(Kind.AIDER)).verdict.state is State.RATE_LIMITED
