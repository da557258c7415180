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


CLAUDE2_RELEASES = {"2.1": None, "2.0": claude.CLAUDE_20_PREFIX}  # release -> npm prefix (None: pinned 2.x)


@pytest.fixture(scope="module", params=list(CLAUDE2_RELEASES))
def claude2_shots(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Shot]]:
    """Every 2.x scenario, on the pinned release and on an older 2.0 one (other dialogs, other retry
    lines, no pane title): the rules must read what the screens mean, not one release's pixels."""
    prefix = CLAUDE2_RELEASES[request.param] or claude.claude_prefix(2)
    _require(claude.prefix_bin(prefix), f"Claude Code {request.param}")
    with claude.ClaudeLab(tmp_path_factory.mktemp("claude2"), prefix=prefix) as lab:
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
    _require(claude.claude_bin(1), f"Claude Code {claude.claude_version(1)}")
    with claude.ClaudeLab(tmp_path_factory.mktemp("claude1"), generation=1) as lab:
        yield _by_scenario(list(claude.gen1_flow(lab)))


@pytest.fixture(scope="module")
def codex_shots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Shot]]:
    _require(codex.codex_bin(), f"Codex CLI {codex.CODEX}")
    with codex.CodexLab(tmp_path_factory.mktemp("codex")) as lab:
        yield _by_scenario(list(codex.main_flow(lab)))


# --- Gemini CLI, opencode, Qwen Code, Aider (tests/realagents/more_captures.py runs the same flows) -------


def _more_shots(name: str, binary: Path, what: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Shot]:
    from tests.realagents import more_captures

    _require(binary, what)
    _folder, _version, shots_of = more_captures.CAPTURES[name]
    return _by_scenario(shots_of(tmp_path_factory.mktemp(name)))


@pytest.fixture(scope="module")
def gemini_shots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Shot]:
    from tests.realagents import gemini

    return _more_shots("gemini", gemini.gemini_bin(), f"Gemini CLI {gemini.GEMINI}", tmp_path_factory)


@pytest.fixture(scope="module")
def gemini_old_shots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Shot]:
    from tests.realagents import gemini

    binary = gemini.gemini_bin(gemini.GEMINI_OLD)
    return _more_shots("gemini-0.30", binary, f"Gemini CLI {gemini.GEMINI_OLD}", tmp_path_factory)


@pytest.fixture(scope="module")
def opencode_shots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Shot]:
    from tests.realagents import opencode

    return _more_shots("opencode", opencode.opencode_bin(), f"opencode {opencode.OPENCODE}", tmp_path_factory)


@pytest.fixture(scope="module")
def qwen_shots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Shot]:
    from tests.realagents import qwen

    return _more_shots("qwen", qwen.qwen_bin(), f"Qwen Code {qwen.QWEN}", tmp_path_factory)


@pytest.fixture(scope="module")
def aider_shots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Shot]:
    from tests.realagents import aider

    return _more_shots("aider", aider.aider_bin(), f"Aider {aider.AIDER}", tmp_path_factory)
