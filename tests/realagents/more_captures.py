"""What ``python -m tests.realagents.capture <cli>`` runs for the CLIs beyond Claude Code and Codex.

Each entry: CLI name -> (corpus folder under tests/corpus/, version string for facts.json, a function that
runs that CLI's scenarios in a lab under the given folder and returns their shots).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.realagents import aider, gemini, opencode, qwen
from tests.realagents.shots import Shot


def _gemini(root: Path) -> list[Shot]:
    with gemini.GeminiLab(root) as lab:
        return [*gemini.main_flow(lab), *gemini.retrying_and_stopped(lab)]


def _gemini_old(root: Path) -> list[Shot]:
    with gemini.GeminiLab(root, gemini.gemini_bin(gemini.GEMINI_OLD).parent) as lab:
        return [*gemini.main_flow(lab), *gemini.retrying_and_stopped(lab)]


def _opencode(root: Path) -> list[Shot]:
    with opencode.OpencodeLab(root) as lab:
        return [*opencode.main_flow(lab), *opencode.stopped(lab)]


def _qwen(root: Path) -> list[Shot]:
    with qwen.QwenLab(root) as lab:
        return [*qwen.main_flow(lab), *qwen.stopped(lab)]


def _aider(root: Path) -> list[Shot]:
    with aider.AiderLab(root) as lab:
        return [*aider.main_flow(lab), *aider.stopped(lab)]


CAPTURES: dict[str, tuple[str, str, Callable[[Path], list[Shot]]]] = {
    "gemini": ("gemini", f"gemini-cli {gemini.GEMINI}", _gemini),
    "gemini-0.30": ("gemini-0.30", f"gemini-cli {gemini.GEMINI_OLD}", _gemini_old),
    "opencode": ("opencode", f"opencode {opencode.OPENCODE}", _opencode),
    "qwen": ("qwen", f"qwen-code {qwen.QWEN}", _qwen),
    "aider": ("aider", f"aider {aider.AIDER}", _aider),
}
