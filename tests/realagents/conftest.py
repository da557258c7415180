"""Fixtures for the real-agent suite: each CLI's scenarios run once per module, in a private tmux server.

Tests are marked ``realagent`` and skip (with the reason) when scripts/install-agents has not installed the
pinned binary, or when tmux is missing. Nothing here talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realagents import claude, codex
from tests.realagents.shots import Shot


def _require(binary: Path, what: str) -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    if not binary.exists():
        pytest.skip(f"{what} is not installed at {binary}: run scripts/install-agents")


def _by_scenario(shots: list[Shot]) -> dict[str, Shot]:
    return {shot.scenario: shot for shot in shots}


@pytest.fixture(scope="module")
def claude2_shots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Shot]]:
    _require(claude.claude_bin(2), f"Claude Code {claude.CLAUDE_2}")
    with claude.ClaudeLab(tmp_path_factory.mktemp("claude2")) as lab:
        shots = [
            *claude.main_flow(lab),
            *claude.retry_and_stop(lab),
            *claude.startup_failures(lab),
            claude.stalled_stream(lab),
            claude.silent_tool(lab),
        ]
        yield _by_scenario(shots)


@pytest.fixture(scope="module")
def claude1_shots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Shot]]:
    _require(claude.claude_bin(1), f"Claude Code {claude.CLAUDE_1}")
    with claude.ClaudeLab(tmp_path_factory.mktemp("claude1"), generation=1) as lab:
        yield _by_scenario(list(claude.gen1_flow(lab)))


@pytest.fixture(scope="module")
def codex_shots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Shot]]:
    _require(codex.codex_bin(), f"Codex CLI {codex.CODEX}")
    with codex.CodexLab(tmp_path_factory.mktemp("codex")) as lab:
        yield _by_scenario(list(codex.main_flow(lab)))
